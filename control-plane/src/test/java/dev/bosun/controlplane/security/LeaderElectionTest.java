package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {
  static final String NAMESPACE = "bosun-system";

  KubernetesMockServer server;
  KubernetesClient client;

  /** Timings short enough for tests: a 2 s lease, renewed every 200 ms, given up after 1 s. */
  static LeaderElectionSettings fast(String identity) {
    return LeaderElectionSettings.defaults(NAMESPACE)
        .withIdentity(identity)
        .withTimings(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofMillis(200));
  }

  static Lease lease(KubernetesClient client) {
    return client
        .resources(Lease.class)
        .inNamespace(NAMESPACE)
        .withName(LeaderElectionSettings.DEFAULT_LEASE_NAME)
        .get();
  }

  /** Counts the callbacks, so tests can wait for the n-th start or stop. */
  static final class Transitions {
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger stopped = new AtomicInteger();

    LeaderElection start(LeaderElection election) {
      return election.start(started::incrementAndGet, stopped::incrementAndGet);
    }
  }

  @Test
  void defaults_areThirtyTwentyFive_onTheNamespaceControllerLease() {
    LeaderElectionSettings settings = LeaderElectionSettings.defaults(NAMESPACE);

    assertThat(settings.leaseName()).isEqualTo("bosun-namespace-controller");
    assertThat(settings.leaseDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(settings.renewDeadline()).isEqualTo(Duration.ofSeconds(20));
    assertThat(settings.retryPeriod()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.identity()).matches(".+_[0-9a-f]{8}");
    assertThat(LeaderElectionSettings.defaults(NAMESPACE).identity())
        .as("a restarted process is a new holder")
        .isNotEqualTo(settings.identity());
  }

  @Test
  void settings_withTimingsTheElectorWouldRefuse_areRejected() {
    LeaderElectionSettings base = LeaderElectionSettings.defaults(NAMESPACE);
    Duration s = Duration.ofSeconds(1);

    assertThatThrownBy(() -> base.withTimings(s.multipliedBy(10), s.multipliedBy(10), s))
        .hasMessageContaining("renewDeadline: PT10S (expected: < leaseDuration PT10S");
    assertThatThrownBy(() -> base.withTimings(Duration.ofMillis(2500), s, Duration.ofMillis(100)))
        .hasMessageContaining("leaseDuration: PT2.5S (expected: whole seconds");
    assertThatThrownBy(() -> base.withTimings(s.multipliedBy(30), s.multipliedBy(2), s))
        .hasMessageContaining("renewDeadline: PT2S (expected: > 2.2 x retryPeriod PT1S)");
    assertThatThrownBy(() -> base.withLeaseName(" ")).hasMessageContaining("expected: none blank");
  }

  @Test
  void loneReplica_leads_andReleasesTheLeaseOnClose() {
    Transitions transitions = new Transitions();
    LeaderElection election = transitions.start(new LeaderElection(client, fast("bosun-0_aaaa")));

    await().atMost(Duration.ofSeconds(30)).until(() -> transitions.started.get() == 1);
    assertThat(election.isLeader()).isTrue();
    assertThat(lease(client).getSpec().getHolderIdentity()).isEqualTo("bosun-0_aaaa");

    election.close();

    assertThat(transitions.stopped.get()).as("stop delivered before close returns").isEqualTo(1);
    assertThat(election.isLeader()).isFalse();
    // fabric8 releases by cutting the lease to one second from now (its merge patch cannot clear
    // the holder), so the next replica takes over within a second instead of waiting it out.
    assertThat(lease(client).getSpec().getLeaseDurationSeconds()).isEqualTo(1);
  }

  @Test
  void apiServerOutage_stopsLeading_andLeadershipResumesWhenItReturns() throws Exception {
    KubernetesMockServer first = crudServer();
    first.init(InetAddress.getLoopbackAddress(), 0);
    int port = first.getPort();
    KubernetesMockServer second = null;
    try (KubernetesClient outageClient = first.createClient()) {
      Transitions transitions = new Transitions();
      try (LeaderElection election =
          transitions.start(new LeaderElection(outageClient, fast("bosun-0_bbbb")))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> transitions.started.get() == 1);

        first.destroy();
        await().atMost(Duration.ofSeconds(30)).until(() -> transitions.stopped.get() == 1);
        assertThat(election.isLeader()).isFalse();

        second = crudServer();
        second.init(InetAddress.getLoopbackAddress(), port);
        await().atMost(Duration.ofSeconds(30)).until(() -> transitions.started.get() == 2);
        assertThat(election.isLeader()).isTrue();
      }
    } finally {
      if (second != null) {
        second.destroy();
      }
    }
  }

  /** A mock API server in CRUD mode, like the one the extension makes, on a port of our choice. */
  private static KubernetesMockServer crudServer() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    return new KubernetesMockServer(
        new Context(Serialization.jsonMapper()),
        new MockWebServer(),
        responses,
        new KubernetesMixedDispatcher(responses),
        false);
  }
}
