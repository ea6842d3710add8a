package dev.bosun.controlplane.source;

import static dev.bosun.controlplane.Fixtures.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The API server goes away and comes back: while it is gone the mesh keeps its last state and stays
 * ready (nothing is deleted for lack of an answer); once it is back the informers reconnect and
 * changes flow again. A real API server keeps its etcd history across restarts and answers a
 * too-old watch with 410 Gone, on which fabric8's reflector relists; the mock server keeps no
 * history and never answers 410, so this test checks reconnection, not the relist.
 */
class ApiServerRestartTest {

  private static KubernetesMockServer crudServer(int port) throws Exception {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init(InetAddress.getByName("127.0.0.1"), port);
    return server;
  }

  @Test
  void outage_keepsLastState_andChangesFlowAgainAfterRestart() throws Exception {
    KubernetesMockServer server = crudServer(0);
    int port = server.getPort();
    KubernetesClient client = server.createClient();
    client
        .services()
        .inNamespace("shop")
        .resource(service("shop", "reviews", 9080, "http"))
        .create();

    MeshModel mesh =
        new MeshModel(
                new MeshSettings(
                    "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(200)),
                new SimpleMeterRegistry(),
                Ticker.SYSTEM,
                Clock.systemUTC(),
                Set.of(KubernetesSource.NAME),
                new UpstreamTlsChangeFilter())
            .start();
    KubernetesSource source = new KubernetesSource(client, mesh).start();
    KubernetesMockServer restarted = null;
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  mesh.ready()
                      && mesh.snapshot().service("reviews.shop.svc.cluster.local").isPresent());
      long version = mesh.snapshot().version();

      server.destroy();
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  mesh.ready()
                      && mesh.snapshot().service("reviews.shop.svc.cluster.local").isPresent());
      assertThat(mesh.snapshot().version())
          .as("no push while the API server is gone")
          .isEqualTo(version);

      restarted = crudServer(port);
      KubernetesClient restartedClient = restarted.createClient();
      restartedClient
          .services()
          .inNamespace("shop")
          .resource(service("shop", "ratings", 9080, "http"))
          .create();

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> mesh.snapshot().service("ratings.shop.svc.cluster.local").isPresent());
      assertThat(mesh.ready()).isTrue();
      assertThat(mesh.snapshot().version()).isGreaterThan(version);
    } finally {
      source.close();
      mesh.close();
      client.close();
      if (restarted != null) {
        restarted.destroy();
      }
    }
  }
}
