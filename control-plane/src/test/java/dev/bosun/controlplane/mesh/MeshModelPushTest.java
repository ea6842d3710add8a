package dev.bosun.controlplane.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.Fixtures;
import dev.bosun.controlplane.Fixtures.Ep;
import dev.bosun.controlplane.Yaml;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Endpoints-only pushes stay endpoints-only unless the endpoints change what clusters carry: the
 * servers' identities (service accounts) or whether every endpoint of a cluster accepts Istio mTLS
 * (its tlsMode label and the PeerAuthentication its labels select).
 */
class MeshModelPushTest {
  private static final String HOST = "echo.demo.svc.cluster.local";
  private static final Map<String, String> MESH =
      Map.of("app", "echo", "security.istio.io/tlsMode", "istio");

  private final List<MeshModel.SnapshotUpdate> updates = new ArrayList<>();
  private MeshModel model;

  @BeforeEach
  void start() {
    model =
        new MeshModel(
            MeshSettings.DEFAULTS,
            new SimpleMeterRegistry(),
            Ticker.SYSTEM,
            Clock.systemUTC(),
            Set.of("test"),
            new UpstreamTlsChangeFilter());
    model.addListener(updates::add);
    model.kubernetesUpserted(Fixtures.service("demo", "echo", 7070, "grpc"), "test");
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", MESH), "test");
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-2", "10.0.0.2", "echo", MESH), "test");
    model.kubernetesUpserted(
        Fixtures.slice("demo", "echo", "echo", "grpc", 7070, Ep.ready("10.0.0.1", "echo-1")),
        "test");
    model.synced("test");
    model.push(PushRequest.everything("initial", 0));
  }

  /** Applies Istio config and pushes it, as the debounce loop would. */
  private void applyConfig(String yaml) {
    model.istioUpserted(Yaml.doc(yaml), "test");
    model.push(PushRequest.everything("config", 0));
  }

  private static final String CANARY_DISABLED =
      """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: canary, namespace: demo}
      spec:
        selector: {matchLabels: {track: canary}}
        mtls: {mode: DISABLE}
      """;

  private static Map<String, String> labels(Map<String, String> base, String key, String value) {
    Map<String, String> labels = new java.util.HashMap<>(base);
    labels.put(key, value);
    return labels;
  }

  private PushRequest pushEndpoints() {
    model.push(PushRequest.endpoints(Set.of(HOST), "endpoints changed", 0));
    return updates.get(updates.size() - 1).request();
  }

  @Test
  void push_newEndpointWithSameIdentity_staysEndpointsOnly() {
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.2", "echo-2")),
        "test");
    assertThat(pushEndpoints().full()).isFalse();
  }

  @Test
  void push_newServiceAccount_becomesFull() {
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-3", "10.0.0.3", "other", MESH), "test");
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.3", "echo-3")),
        "test");
    PushRequest request = pushEndpoints();
    assertThat(request.full()).isTrue();
    assertThat(request.services()).containsExactly(HOST);
  }

  @Test
  void push_endpointWithoutSidecar_becomesFull() {
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-3", "10.0.0.3", "echo", Map.of("app", "echo")), "test");
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.3", "echo-3")),
        "test");
    assertThat(pushEndpoints().full()).isTrue();
  }

  @Test
  void push_relabelSelectsPeerAuthenticationThatDisablesMtls_becomesFull() {
    applyConfig(CANARY_DISABLED);
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", labels(MESH, "track", "canary")),
        "test");
    PushRequest request = pushEndpoints();
    assertThat(request.full()).isTrue();
    assertThat(request.services()).containsExactly(HOST);
  }

  @Test
  void push_relabelSelectsPortLevelDisable_becomesFull() {
    applyConfig(
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: canary, namespace: demo}
        spec:
          selector: {matchLabels: {track: canary}}
          portLevelMtls: {7070: {mode: DISABLE}}
        """);
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", labels(MESH, "track", "canary")),
        "test");
    assertThat(pushEndpoints().full()).isTrue();
  }

  @Test
  void push_relabelFlipsOneSubsetWhileHostStaysMixed_becomesFull() {
    // Subset v2 has no sidecar, so the host as a whole never accepts mTLS; subset v1 flips.
    applyConfig(CANARY_DISABLED);
    applyConfig(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: demo}
        spec:
          host: echo
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """);
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", labels(MESH, "version", "v1")), "test");
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-3", "10.0.0.3", "echo", Map.of("app", "echo", "version", "v2")),
        "test");
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.3", "echo-3")),
        "test");
    model.push(PushRequest.everything("setup", 0));

    Map<String, String> canary = labels(labels(MESH, "version", "v1"), "track", "canary");
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", canary), "test");
    assertThat(pushEndpoints().full()).isTrue();
  }

  @Test
  void push_relabelThatLeavesMtlsAsItWas_staysEndpointsOnly() {
    applyConfig(CANARY_DISABLED);
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", labels(MESH, "track", "stable")),
        "test");
    assertThat(pushEndpoints().full()).isFalse();
  }
}
