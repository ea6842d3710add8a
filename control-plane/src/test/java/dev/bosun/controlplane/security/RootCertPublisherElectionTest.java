package dev.bosun.controlplane.security;

import static dev.bosun.controlplane.security.RootCertPublisher.CONFIG_MAP_NAME;
import static dev.bosun.controlplane.security.RootCertPublisher.ROOT_CERT_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two replicas, each with its own client, electing on one Lease: only the leader publishes. */
@EnableKubernetesMockClient(crud = true)
class RootCertPublisherElectionTest {
  static final String ROOT = RootCertPublisherTest.pem("root");

  KubernetesMockServer server;
  KubernetesClient client;

  private final List<Replica> replicas = new ArrayList<>();

  /** One Bosun process: its client, its publisher and its place in the election. */
  private final class Replica implements AutoCloseable {
    final KubernetesClient client = server.createClient();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final RootCertPublisher publisher = new RootCertPublisher(client, () -> ROOT, meters);
    final LeaderElection election;

    Replica(String identity) {
      election =
          new LeaderElection(client, LeaderElectionTest.fast(identity))
              .start(publisher::start, publisher::stop);
      replicas.add(this);
    }

    double writes() {
      return meters.get("bosun_root_cert_writes").counters().stream()
          .mapToDouble(c -> c.count())
          .sum();
    }

    @Override
    public void close() {
      election.close();
      publisher.close();
      client.close();
    }
  }

  @AfterEach
  void tearDown() {
    replicas.forEach(Replica::close);
  }

  private void namespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  private void awaitPublished(String namespace) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ConfigMap cm =
                  client.configMaps().inNamespace(namespace).withName(CONFIG_MAP_NAME).get();
              assertThat(cm).as(namespace).isNotNull();
              assertThat(cm.getData()).containsEntry(ROOT_CERT_KEY, ROOT);
            });
  }

  @Test
  void twoReplicas_onlyTheLeaderPublishes_andTheOtherTakesOverWhenItStops() {
    namespace("default");
    namespace("shop");
    Replica a = new Replica("bosun-a_0001");
    Replica b = new Replica("bosun-b_0002");

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.election.isLeader() || b.election.isLeader());
    Replica leader = a.election.isLeader() ? a : b;
    Replica follower = leader == a ? b : a;
    awaitPublished("default");
    awaitPublished("shop");
    await().atMost(Duration.ofSeconds(30)).until(leader.publisher::publishing);

    assertThat(follower.election.isLeader()).isFalse();
    assertThat(follower.publisher.publishing()).isFalse();
    assertThat(follower.writes()).isZero();
    assertThat(leader.writes()).isEqualTo(2);
    assertThat(LeaderElectionTest.lease(client).getSpec().getHolderIdentity())
        .isEqualTo(leader.election.identity());

    leader.close();
    assertThat(leader.publisher.publishing()).isFalse();

    // The mock API server replays no watch history: a change made before the new leader's
    // watches are open would never reach it, where a real API server would replay it.
    await().atMost(Duration.ofSeconds(30)).until(follower.publisher::synced);
    client.configMaps().inNamespace("shop").withName(CONFIG_MAP_NAME).delete();
    namespace("late");

    awaitPublished("shop");
    awaitPublished("late");
    assertThat(follower.writes()).isEqualTo(2);
    assertThat(LeaderElectionTest.lease(client).getSpec().getHolderIdentity())
        .isEqualTo(follower.election.identity());
  }
}
