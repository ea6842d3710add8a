package dev.bosun.e2e;

import static dev.bosun.e2e.MeshWorld.subsets;
import static dev.bosun.e2e.Rpcs.call;
import static dev.bosun.e2e.Rpcs.outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DestinationRule traffic policies and bad configuration, observed through real RPCs: hashing,
 * circuit breaking, locality failover, and an invalid object that must cost only itself.
 */
@EnableKubernetesMockClient(crud = true)
class PolicyScenariosTest {
  static KubernetesClient client;
  private static MeshWorld world;
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  @BeforeAll
  static void start() throws Exception {
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
  }

  @AfterAll
  static void stop() throws Exception {
    world.close();
  }

  /** For each of ten users, the set of backends their ten calls reached. */
  private static Map<String, Set<String>> backendsPerUser(ManagedChannel channel) {
    Map<String, Set<String>> seen = new java.util.TreeMap<>();
    for (int user = 0; user < 10; user++) {
      for (int i = 0; i < 10; i++) {
        seen.computeIfAbsent("user-" + user, k -> new HashSet<>())
            .add(call(channel, Map.of("x-user", "user-" + user), DEADLINE));
      }
    }
    return seen;
  }

  @Test
  void consistentHashOnAHeader_keepsEachUserOnOneBackend() throws Exception {
    world.service("sticky");
    for (String pod : new String[] {"sticky-a", "sticky-b", "sticky-c"}) {
      world.backend("sticky", pod, Map.of("app", "sticky"), "zone-a");
    }
    ManagedChannel channel = world.channel(world.host("sticky"), "zone-a");
    // Round robin first: a user's ten calls spread over all three pods.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> backendsPerUser(channel).get("user-0").size() == 3);

    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: sticky, namespace: e2e}
        spec:
          host: sticky
          trafficPolicy:
            loadBalancer: {consistentHash: {httpHeaderName: x-user}}
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> backendsPerUser(channel).values().stream().allMatch(set -> set.size() == 1));
    Map<String, Set<String>> perUser = backendsPerUser(channel);
    assertThat(perUser.values()).allSatisfy(set -> assertThat(set).hasSize(1));
    // The users are spread, not all pinned to one pod (all ten on one of three: p = 3^-9).
    assertThat(perUser.values().stream().flatMap(Set::stream).distinct().count()).isGreaterThan(1);
  }

  /**
   * What Bosun can prove for circuit breaking with grpc-java clients: the cluster carries {@code
   * max_requests} from {@code http2MaxRequests} and the client accepts it. Whether a second
   * in-flight RPC is refused is up to the client, and grpc-java 1.85.1 counts in-flight requests
   * only on clusters that report load (LRS), which Istio-style clusters do not: with it, the limit
   * is accepted but not enforced. An Envoy sidecar enforces it.
   */
  @Test
  void circuitBreaking_http2MaxRequests_reachesTheClientAsMaxRequests_andIsAccepted()
      throws Exception {
    world.service("narrow");
    world.backend("narrow", "narrow-a", Map.of("app", "narrow"), "zone-a");
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: narrow, namespace: e2e}
        spec:
          host: narrow
          trafficPolicy:
            connectionPool: {http: {http2MaxRequests: 1}}
        """);
    ManagedChannel channel = world.channel(world.host("narrow"), "zone-a");
    assertThat(call(channel, Map.of(), DEADLINE)).isEqualTo("narrow-a");
    String cluster = world.local("outbound|7070||narrow.e2e.svc.cluster.local");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              JsonNode accepted = null;
              for (JsonNode proxy : IstioJson.json().readTree(world.body("/debug/syncz"))) {
                String id =
                    java.net.URLEncoder.encode(
                        proxy.path("nodeId").asText(), java.nio.charset.StandardCharsets.UTF_8);
                for (JsonNode dump :
                    IstioJson.json().readTree(world.body("/debug/config_dump?proxyID=" + id))) {
                  for (JsonNode config : dump.path("configs")) {
                    JsonNode resource = config.path("resources").path(cluster);
                    if (resource.path("acknowledged").asBoolean()
                        && resource.findPath("circuitBreakers").isObject()) {
                      accepted = resource;
                    }
                  }
                }
              }
              assertThat(accepted).as("cluster %s acknowledged by a client", cluster).isNotNull();
              assertThat(
                      accepted
                          .findValue("circuitBreakers")
                          .path("thresholds")
                          .get(0)
                          .path("maxRequests")
                          .asInt())
                  .isEqualTo(1);
            });
  }

  @Test
  void localityFailover_whenTheLocalZoneLosesItsEndpoints() throws Exception {
    world.service("near");
    world.backend(
        "near", "near-a", Map.of("app", "near", "istio-locality", "local.zone-a"), "zone-a");
    world.backend(
        "near", "near-b", Map.of("app", "near", "istio-locality", "local.zone-b"), "zone-b");
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: near, namespace: e2e}
        spec:
          host: near
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
        """);
    ManagedChannel channel = world.channel(world.host("near"), "zone-a");
    Set<String> seen = new HashSet<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              seen.clear();
              IntStream.range(0, 20).forEach(i -> seen.add(call(channel, Map.of(), DEADLINE)));
              return seen.equals(Set.of("near-a"));
            });
    assertThat(IntStream.range(0, 50).mapToObj(i -> call(channel, Map.of(), DEADLINE)).distinct())
        .containsExactly("near-a");

    world.removeBackend("near-a");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> outcome(channel, Map.of(), Duration.ofSeconds(2)).equals("near-b"));
    assertThat(IntStream.range(0, 50).mapToObj(i -> call(channel, Map.of(), DEADLINE)).distinct())
        .containsExactly("near-b");
  }

  @Test
  void invalidVirtualServiceInTheApiServer_isSkippedAndReported_andOtherTrafficFlows()
      throws Exception {
    world.service("steady");
    world.backend("steady", "steady-v1", Map.of("app", "steady", "version", "v1"), "zone-a");
    world.backend("steady", "steady-v2", Map.of("app", "steady", "version", "v2"), "zone-a");
    world.service("broken");
    world.backend("broken", "broken-a", Map.of("app", "broken"), "zone-a");
    ManagedChannel steady = world.channel(world.host("steady"), "zone-a");
    ManagedChannel broken = world.channel(world.host("broken"), "zone-a");
    assertThat(call(broken, Map.of(), DEADLINE)).isEqualTo("broken-a");

    // Written straight to the API server, as if the validating webhook were not installed: a
    // negative weight, which the CRD's schema lets through and Bosun's validator refuses.
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: broken, namespace: e2e}
        spec:
          hosts: [broken]
          http:
          - route: [{destination: {host: broken, subset: v1}, weight: -5}]
        """);
    world.apply(subsets("steady", "steady", "v1", "v2"));
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: steady, namespace: e2e}
        spec:
          hosts: [steady]
          http:
          - route: [{destination: {host: steady, subset: v2}}]
        """);

    await()
        .atMost(Duration.ofSeconds(30))
        // Ten in a row: before the route lands, the default route reaches v2 half the time.
        .until(
            () ->
                IntStream.range(0, 10)
                    .mapToObj(i -> outcome(steady, Map.of(), Duration.ofSeconds(2)))
                    .allMatch("steady-v2"::equals));
    assertThat(IntStream.range(0, 30).mapToObj(i -> call(steady, Map.of(), DEADLINE)).distinct())
        .containsExactly("steady-v2");
    // The broken service keeps its default route: the invalid object was never used.
    assertThat(IntStream.range(0, 10).mapToObj(i -> call(broken, Map.of(), DEADLINE)).distinct())
        .containsExactly("broken-a");

    JsonNode configz = IstioJson.json().readTree(world.body("/debug/configz"));
    JsonNode rejection = null;
    for (JsonNode entry : configz.get("rejected")) {
      if (entry.get("name").asText().equals("broken")) {
        rejection = entry;
      }
    }
    assertThat(rejection).as("broken VirtualService listed as rejected in %s", configz).isNotNull();
    assertThat(rejection.get("kind").asText()).isEqualTo("VirtualService");
    assertThat(rejection.get("errors").toString()).contains("http[0].route[0].weight");
    assertThat(world.body("/metrics"))
        .containsPattern("bosun_config_rejected\\{[^}]*kind=\"VirtualService\"[^}]*} 1\\.0");
  }
}
