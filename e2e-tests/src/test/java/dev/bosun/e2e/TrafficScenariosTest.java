package dev.bosun.e2e;

import static dev.bosun.e2e.MeshWorld.subsets;
import static dev.bosun.e2e.Rpcs.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real RPCs from grpc-java's xDS client through configuration Bosun derived from objects created in
 * a Kubernetes API server. Every assertion is on what the RPCs did: which backend answered, with
 * which status, and how many attempts a backend saw.
 */
@EnableKubernetesMockClient(crud = true)
class TrafficScenariosTest {
  static KubernetesClient client;
  private static MeshWorld world;
  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final Map<String, String> NO_HEADERS = Map.of();

  @BeforeAll
  static void start() throws Exception {
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
  }

  @AfterAll
  static void stop() throws Exception {
    world.close();
    ApplyTimings.report();
  }

  private static Set<String> whoAnswers(
      ManagedChannel channel, int calls, Map<String, String> headers) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < calls; i++) {
      seen.add(call(channel, headers, DEADLINE));
    }
    return seen;
  }

  /**
   * Applies {@code yaml} and waits for the first RPC showing it took effect, confirmed by the 20
   * RPCs after it (so a weighted split that merely happened to pick the new backend does not
   * count); records the time to that first RPC.
   */
  private static void applyAndAwait(
      String yaml,
      ManagedChannel channel,
      Map<String, String> headers,
      Predicate<String> followed) {
    long start = System.nanoTime();
    world.apply(yaml);
    long[] firstFollowing = new long[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              if (!followed.test(outcome(channel, headers))) {
                return false;
              }
              firstFollowing[0] = System.nanoTime();
              for (int i = 0; i < 20; i++) {
                if (!followed.test(outcome(channel, headers))) {
                  return false;
                }
              }
              return true;
            });
    ApplyTimings.record(Duration.ofNanos(firstFollowing[0] - start));
  }

  /** The backend name, or the status code name of a failed RPC. */
  private static String outcome(ManagedChannel channel, Map<String, String> headers) {
    return Rpcs.outcome(channel, headers, Duration.ofSeconds(2));
  }

  @Test
  void noIstioConfig_reachesEveryReadyPod_andADeletedPodGetsNoTraffic() throws Exception {
    world.service("plain");
    world.backend("plain", "plain-a", Map.of("app", "plain"), "zone-a");
    ManagedChannel channel = world.channel(world.host("plain"), "zone-a");
    assertThat(whoAnswers(channel, 20, NO_HEADERS)).containsExactly("plain-a");

    world.backend("plain", "plain-b", Map.of("app", "plain"), "zone-a");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> whoAnswers(channel, 10, NO_HEADERS).contains("plain-b"));
    assertThat(whoAnswers(channel, 40, NO_HEADERS)).containsExactlyInAnyOrder("plain-a", "plain-b");

    world.removeBackend("plain-a");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> whoAnswers(channel, 10, NO_HEADERS).equals(Set.of("plain-b")));
    assertThat(whoAnswers(channel, 50, NO_HEADERS)).containsExactly("plain-b");
  }

  @Test
  void weightedSplit_90_10_thenShiftedTo_0_100() throws Exception {
    world.service("split");
    world.backend("split", "split-v1", Map.of("app", "split", "version", "v1"), "zone-a");
    world.backend("split", "split-v2", Map.of("app", "split", "version", "v2"), "zone-a");
    world.apply(subsets("split", "split", "v1", "v2"));
    ManagedChannel channel = world.channel(world.host("split"), "zone-a");
    String virtualService =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: split, namespace: e2e}
        spec:
          hosts: [split]
          http:
          - route:
            - {destination: {host: split, subset: v1}, weight: %d}
            - {destination: {host: split, subset: v2}, weight: %d}
        """;
    world.apply(virtualService.formatted(90, 10));
    // Wait until the split is in force (both subsets seen), then count.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> whoAnswers(channel, 50, NO_HEADERS).size() == 2);
    int n = 400;
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(call(channel, NO_HEADERS, DEADLINE), 1, Integer::sum);
    }
    // v2 ~ Binomial(400, 0.1): mean 40, sd 6; accept mean ± 5 sd.
    assertThat(counts.getOrDefault("split-v2", 0)).isBetween(10, 70);
    assertThat(counts.get("split-v1") + counts.getOrDefault("split-v2", 0)).isEqualTo(n);

    applyAndAwait(virtualService.formatted(0, 100), channel, NO_HEADERS, "split-v2"::equals);
    assertThat(whoAnswers(channel, 100, NO_HEADERS)).containsExactly("split-v2");
  }

  @Test
  void headerMatch_pathMatch_andNegatedHeaderMatch() throws Exception {
    world.service("match");
    for (String version : List.of("v1", "v2", "v3")) {
      world.backend(
          "match", "match-" + version, Map.of("app", "match", "version", version), "zone-a");
    }
    world.apply(subsets("match", "match", "v1", "v2", "v3"));
    ManagedChannel channel = world.channel(world.host("match"), "zone-a");
    applyAndAwait(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: match, namespace: e2e}
        spec:
          hosts: [match.e2e.svc.cluster.local]
          http:
          - match: [{headers: {x-user: {exact: tester}}}]
            route: [{destination: {host: match, subset: v2}}]
          - match:
            - uri: {prefix: /grpc.health.v1.Health/}
              withoutHeaders: {x-lane: {exact: blue}}
            route: [{destination: {host: match, subset: v3}}]
          - route: [{destination: {host: match, subset: v1}}]
        """,
        channel,
        Map.of("x-lane", "blue"),
        "match-v1"::equals);

    assertThat(whoAnswers(channel, 20, Map.of("x-user", "tester", "x-lane", "blue")))
        .containsExactly("match-v2");
    assertThat(whoAnswers(channel, 20, Map.of("x-lane", "green"))).containsExactly("match-v3");
    assertThat(whoAnswers(channel, 20, Map.of("x-lane", "blue"))).containsExactly("match-v1");
    assertThat(whoAnswers(channel, 20, Map.of("x-user", "someone-else", "x-lane", "blue")))
        .containsExactly("match-v1");
  }

  @Test
  void faultInjection_abortWithTheGivenStatus_andDelay() throws Exception {
    world.service("faulty");
    Backend backend = world.backend("faulty", "faulty-a", Map.of("app", "faulty"), "zone-a");
    ManagedChannel channel = world.channel(world.host("faulty"), "zone-a");
    assertThat(call(channel, NO_HEADERS, DEADLINE)).isEqualTo("faulty-a");

    applyAndAwait(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: faulty, namespace: e2e}
        spec:
          hosts: [faulty]
          http:
          - match: [{headers: {x-fault: {exact: abort}}}]
            fault: {abort: {percentage: {value: 100}, httpStatus: 503}}
            route: [{destination: {host: faulty}}]
          - match: [{headers: {x-fault: {exact: delay}}}]
            fault: {delay: {percentage: {value: 100}, fixedDelay: 30s}}
            route: [{destination: {host: faulty}}]
          - route: [{destination: {host: faulty}}]
        """,
        channel,
        Map.of("x-fault", "abort"),
        Status.Code.UNAVAILABLE.name()::equals);

    int before = backend.calls.get();
    // HTTP 503 maps to gRPC UNAVAILABLE; the backend never sees the call.
    assertThatThrownBy(() -> call(channel, Map.of("x-fault", "abort"), DEADLINE))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    // A 30 s injected delay against a 1 s deadline: the deadline wins before the backend is called.
    assertThatThrownBy(() -> call(channel, Map.of("x-fault", "delay"), Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(backend.calls.get()).isEqualTo(before);
    assertThat(call(channel, NO_HEADERS, DEADLINE)).isEqualTo("faulty-a");
    assertThat(backend.calls.get()).isEqualTo(before + 1);
  }

  @Test
  void routeTimeout_andRetriesOnAFailingBackend() throws Exception {
    world.service("slow");
    Backend slow = world.backend("slow", "slow-a", Map.of("app", "slow"), "zone-a");
    world.service("flaky");
    Backend flaky = world.backend("flaky", "flaky-a", Map.of("app", "flaky"), "zone-a");
    ManagedChannel slowChannel = world.channel(world.host("slow"), "zone-a");
    ManagedChannel flakyChannel = world.channel(world.host("flaky"), "zone-a");
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: slow, namespace: e2e}
        spec:
          hosts: [slow]
          http:
          - timeout: 300ms
            route: [{destination: {host: slow}}]
        """);
    applyAndAwait(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: flaky, namespace: e2e}
        spec:
          hosts: [flaky]
          http:
          - retries: {attempts: 3, retryOn: unavailable}
            route: [{destination: {host: flaky}}]
        """,
        flakyChannel,
        NO_HEADERS,
        "flaky-a"::equals);

    // Until the 300ms route timeout reaches the client a 2 s backend answers; after, it cannot.
    slow.delay = Duration.ofSeconds(2);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Rpcs.outcome(slowChannel, NO_HEADERS, DEADLINE)
                    .equals(Status.Code.DEADLINE_EXCEEDED.name()));
    assertThatThrownBy(() -> call(slowChannel, NO_HEADERS, DEADLINE))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(slow.calls.get()).isPositive();
    slow.delay = Duration.ZERO;

    // Two failures then success: three attempts seen by the backend, one success seen by the
    // caller.
    int before = flaky.calls.get();
    flaky.failuresLeft.set(2);
    assertThat(call(flakyChannel, NO_HEADERS, DEADLINE)).isEqualTo("flaky-a");
    assertThat(flaky.calls.get() - before).isEqualTo(3);

    // Four failures exhaust 1 + 3 attempts: the caller sees the backend's status.
    before = flaky.calls.get();
    flaky.failuresLeft.set(4);
    assertThatThrownBy(() -> call(flakyChannel, NO_HEADERS, DEADLINE))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(flaky.calls.get() - before).isEqualTo(4);
  }
}
