package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy.Mode;
import dev.bosun.controlplane.xds.scope.ProxyView;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PeerAuthentication composition as istiod does it, one rule per case. */
class PeerAuthenticationPolicyTest {
  private static final Map<String, String> APP = Map.of("app", "echo");

  /** A PeerAuthentication document. */
  private static String policy(
      String namespace, String name, String created, String selector, String spec) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
          %s
          %s
        ---
        """
        .formatted(name, namespace, created, selector == null ? "" : selector, spec);
  }

  private static String mesh(String mode) {
    return policy(
        "istio-system", "mesh", "2026-01-01T00:00:00Z", null, "mtls: {mode: " + mode + "}");
  }

  private static String namespace(String mode) {
    return policy("demo", "ns", "2026-01-01T00:00:00Z", null, "mtls: {mode: " + mode + "}");
  }

  private static String workload(String spec) {
    return policy(
        "demo", "workload", "2026-01-01T00:00:00Z", "selector: {matchLabels: {app: echo}}", spec);
  }

  private static PeerAuthenticationPolicy resolve(String yaml, Map<String, String> labels) {
    MeshSnapshot snapshot = TestSnapshots.of("policies.yaml", yaml);
    return PeerAuthenticationPolicy.of(snapshot.config(), "demo", labels);
  }

  static Stream<Arguments> levels() {
    return Stream.of(
        Arguments.of("no policy: PERMISSIVE", "", Mode.PERMISSIVE),
        Arguments.of("mesh-wide STRICT", mesh("STRICT"), Mode.STRICT),
        Arguments.of("namespace over mesh", mesh("STRICT") + namespace("DISABLE"), Mode.DISABLE),
        Arguments.of(
            "workload over namespace",
            mesh("STRICT") + namespace("DISABLE") + workload("mtls: {mode: PERMISSIVE}"),
            Mode.PERMISSIVE),
        Arguments.of(
            "UNSET workload inherits the namespace's",
            namespace("STRICT") + workload("mtls: {mode: UNSET}"),
            Mode.STRICT),
        Arguments.of(
            "workload without mtls inherits",
            namespace("DISABLE") + workload("portLevelMtls: {8080: {mode: STRICT}}"),
            Mode.DISABLE),
        Arguments.of(
            "UNSET namespace inherits the mesh's",
            mesh("STRICT") + namespace("UNSET"),
            Mode.STRICT),
        Arguments.of("UNSET mesh is PERMISSIVE", mesh("UNSET"), Mode.PERMISSIVE),
        Arguments.of(
            "another namespace's policy does not apply",
            policy("other", "ns", "2026-01-01T00:00:00Z", null, "mtls: {mode: STRICT}"),
            Mode.PERMISSIVE),
        Arguments.of(
            "a selector that does not match does not apply",
            policy(
                "demo",
                "w",
                "2026-01-01T00:00:00Z",
                "selector: {matchLabels: {app: other}}",
                "mtls: {mode: STRICT}"),
            Mode.PERMISSIVE),
        Arguments.of(
            "selector policies in the root namespace are ignored",
            policy(
                "istio-system",
                "w",
                "2026-01-01T00:00:00Z",
                "selector: {matchLabels: {app: echo}}",
                "mtls: {mode: STRICT}"),
            Mode.PERMISSIVE),
        Arguments.of(
            "oldest namespace policy wins",
            policy("demo", "a-new", "2026-03-01T00:00:00Z", null, "mtls: {mode: STRICT}")
                + policy("demo", "z-old", "2026-01-01T00:00:00Z", null, "mtls: {mode: DISABLE}"),
            Mode.DISABLE),
        Arguments.of(
            "oldest mesh policy wins",
            policy("istio-system", "a-new", "2026-03-01T00:00:00Z", null, "mtls: {mode: DISABLE}")
                + policy(
                    "istio-system", "z-old", "2026-01-01T00:00:00Z", null, "mtls: {mode: STRICT}"),
            Mode.STRICT),
        Arguments.of(
            "oldest workload policy wins",
            policy(
                    "demo",
                    "a-new",
                    "2026-03-01T00:00:00Z",
                    "selector: {matchLabels: {app: echo}}",
                    "mtls: {mode: DISABLE}")
                + policy(
                    "demo",
                    "z-old",
                    "2026-01-01T00:00:00Z",
                    "selector: {matchLabels: {app: echo}}",
                    "mtls: {mode: STRICT}"),
            Mode.STRICT),
        Arguments.of(
            "same age: the name that sorts first wins",
            policy("demo", "b", "2026-01-01T00:00:00Z", null, "mtls: {mode: STRICT}")
                + policy("demo", "a", "2026-01-01T00:00:00Z", null, "mtls: {mode: DISABLE}"),
            Mode.DISABLE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("levels")
  void of_composesLevels(String name, String yaml, Mode expected) {
    assertThat(resolve(yaml, APP).mode()).isEqualTo(expected);
  }

  @Test
  void forPort_workloadPortLevel_overridesOnlyThatPort() {
    PeerAuthenticationPolicy policy =
        resolve(
            namespace("STRICT")
                + workload(
                    "mtls: {mode: STRICT}\n  portLevelMtls: {8080: {mode: DISABLE}, 9090: {mode:"
                        + " PERMISSIVE}}"),
            APP);
    assertThat(policy.forPort(8080)).isEqualTo(Mode.DISABLE);
    assertThat(policy.forPort(9090)).isEqualTo(Mode.PERMISSIVE);
    assertThat(policy.forPort(7070)).isEqualTo(Mode.STRICT);
  }

  @Test
  void forPort_unsetPortLevel_inheritsTheWorkloadMode() {
    PeerAuthenticationPolicy policy =
        resolve(
            mesh("STRICT")
                + workload("mtls: {mode: DISABLE}\n  portLevelMtls: {8080: {mode: UNSET}}"),
            APP);
    assertThat(policy.forPort(8080)).isEqualTo(Mode.DISABLE);
  }

  @Test
  void forPort_workloadWithOnlyPortLevel_inheritsTheNamespaceModeElsewhere() {
    PeerAuthenticationPolicy policy =
        resolve(namespace("STRICT") + workload("portLevelMtls: {8080: {mode: DISABLE}}"), APP);
    assertThat(policy.forPort(8080)).isEqualTo(Mode.DISABLE);
    assertThat(policy.forPort(9090)).isEqualTo(Mode.STRICT);
  }

  @Test
  void forPort_portLevelOfANonMatchingWorkloadPolicy_doesNotApply() {
    PeerAuthenticationPolicy policy =
        resolve(
            namespace("STRICT")
                + workload("mtls: {mode: STRICT}\n  portLevelMtls: {8080: {mode: DISABLE}}"),
            Map.of("app", "other"));
    assertThat(policy.forPort(8080)).isEqualTo(Mode.STRICT);
  }

  @Test
  void forProxy_withoutNodeLabels_usesTheLabelsOfItsEndpoint() {
    MeshSnapshot snapshot =
        TestSnapshots.of(
            "workload.yaml",
            workload("mtls: {mode: STRICT}")
                + """
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: demo}
                spec: {clusterIP: 10.96.0.10, ports: [{name: grpc, port: 7070}]}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: echo-1, namespace: demo, labels: {app: echo}}
                spec: {containers: [{name: echo, image: echo}]}
                status: {podIP: 10.0.0.7}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: echo-1, namespace: demo, labels: {kubernetes.io/service-name: echo}}
                addressType: IPv4
                ports: [{name: grpc, port: 7070}]
                endpoints:
                - addresses: [10.0.0.7]
                  targetRef: {kind: Pod, name: echo-1, namespace: demo}
                """);
    ProxyView proxy =
        new ProxyView(
            "sidecar~10.0.0.7~echo-1.demo~demo.svc.cluster.local",
            "sidecar",
            "10.0.0.7",
            "demo",
            Map.of(),
            "grpc",
            dev.bosun.controlplane.model.Locality.UNKNOWN,
            "",
            "",
            java.util.List.of());
    assertThat(PeerAuthenticationPolicy.forProxy(snapshot, proxy).mode()).isEqualTo(Mode.STRICT);
  }
}
