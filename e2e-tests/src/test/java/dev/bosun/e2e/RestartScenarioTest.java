package dev.bosun.e2e;

import static dev.bosun.e2e.MeshWorld.subsets;
import static dev.bosun.e2e.Rpcs.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bosun goes away mid-test: clients keep serving on what they have, reconnect, and converge. */
@EnableKubernetesMockClient(crud = true)
class RestartScenarioTest {
  KubernetesClient client;
  private MeshWorld world;
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  private static String route(String subset) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: steady, namespace: e2e}
        spec:
          hosts: [steady]
          http:
          - route: [{destination: {host: steady, subset: %s}}]
        """
        .formatted(subset);
  }

  @Test
  void clientsKeepTheirConfigWhileBosunIsDown_thenReconnectAndConverge() throws Exception {
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    world.service("steady");
    world.backend("steady", "steady-v1", Map.of("app", "steady", "version", "v1"), "zone-a");
    world.backend("steady", "steady-v2", Map.of("app", "steady", "version", "v2"), "zone-a");
    world.apply(subsets("steady", "steady", "v1", "v2"));
    world.apply(route("v1"));
    ManagedChannel channel = world.channel(world.host("steady"), "zone-a");
    // Ten in a row: until the route lands, the default route reaches v1 half the time.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                IntStream.range(0, 10)
                    .mapToObj(i -> Rpcs.outcome(channel, Map.of(), Duration.ofSeconds(2)))
                    .allMatch("steady-v1"::equals));

    world.stopBosun();
    assertThat(world.status("/ready")).isEqualTo(-1);
    // Without a control plane the client serves on the configuration it last accepted.
    assertThat(IntStream.range(0, 30).mapToObj(i -> call(channel, Map.of(), DEADLINE)).distinct())
        .containsExactly("steady-v1");

    // The change made while Bosun is down reaches the client once it is back.
    world.apply(route("v2"));
    world.startBosun();
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> Rpcs.outcome(channel, Map.of(), Duration.ofSeconds(2)).equals("steady-v2"));
    assertThat(IntStream.range(0, 30).mapToObj(i -> call(channel, Map.of(), DEADLINE)).distinct())
        .containsExactly("steady-v2");
  }
}
