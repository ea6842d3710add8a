package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Resources are generated once per snapshot and proxy scope and shared: proxies whose inputs are
 * the same get the same object, and proxies whose inputs differ (namespace, Sidecar, source labels
 * a VirtualService matches on) never get another's.
 */
class SharedResourcesTest {
  private static final String HOST = "echo.demo.svc.cluster.local";
  private static final String CLUSTER = "outbound|8080||" + HOST;
  private static final String V2 = "outbound|8080|v2|" + HOST;

  private static final String MESH =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: echo, namespace: demo}
      spec:
        clusterIP: 10.96.0.10
        ports: [{name: http, port: 8080}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata:
        name: echo-1
        namespace: demo
        labels: {kubernetes.io/service-name: echo}
      addressType: IPv4
      ports: [{name: http, port: 8080}]
      endpoints:
      - addresses: [10.1.0.1]
        conditions: {ready: true}
        targetRef: {kind: Pod, namespace: demo, name: echo-v1}
      - addresses: [10.1.0.2]
        conditions: {ready: true}
        targetRef: {kind: Pod, namespace: demo, name: echo-v2}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: echo-v1, namespace: demo, labels: {app: echo, version: v1}}
      spec: {serviceAccountName: echo}
      status: {podIP: 10.1.0.1}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: echo-v2, namespace: demo, labels: {app: echo, version: v2}}
      spec: {serviceAccountName: echo}
      status: {podIP: 10.1.0.2}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: echo, namespace: demo}
      spec:
        host: echo
        exportTo: ["."]
        trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      """;

  private static final String CANARY_FOR_ALL =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: echo, namespace: demo}
      spec:
        hosts: [echo]
        http:
        - route:
          - {destination: {host: echo, subset: v1}, weight: 90}
          - {destination: {host: echo, subset: v2}, weight: 10}
      """;

  private static final String CANARY_FOR_TESTERS =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: echo, namespace: demo}
      spec:
        hosts: [echo]
        http:
        - match: [{sourceLabels: {role: tester}}]
          route: [{destination: {host: echo, subset: v2}}]
        - route: [{destination: {host: echo, subset: v1}}]
      """;

  private final SidecarGenerator generator = new SidecarGenerator("cluster.local");

  @Test
  void sidecarsOfOneNamespace_shareClustersEndpointsAndRoutes() {
    MeshSnapshot snapshot = TestSnapshots.of("mesh", MESH + CANARY_FOR_ALL);
    ProxyView one = proxy("10.2.0.1", "demo", Map.of("app", "client", "role", "tester"));
    ProxyView two = proxy("10.2.0.2", "demo", Map.of("app", "other"));

    assertThat(generator.clusters(snapshot, one).resources().get(V2))
        .isNotNull()
        .isSameAs(generator.clusters(snapshot, two).resources().get(V2));
    assertThat(generator.endpoints(snapshot, one, Set.of(V2)).resources().get(V2))
        .isNotNull()
        .isSameAs(generator.endpoints(snapshot, two, Set.of(V2)).resources().get(V2));
    assertThat(generator.routes(snapshot, one, Set.of("8080")).resources().get("8080"))
        .isNotNull()
        .isSameAs(generator.routes(snapshot, two, Set.of("8080")).resources().get("8080"));
    assertThat(generator.listeners(snapshot, one).resources().get("0.0.0.0_8080"))
        .isNotNull()
        .isSameAs(generator.listeners(snapshot, two).resources().get("0.0.0.0_8080"));
  }

  @Test
  void proxyInAnotherNamespace_getsItsOwnClusters_withoutARuleNotExportedToIt() {
    MeshSnapshot snapshot = TestSnapshots.of("mesh", MESH);
    ProxyView inDemo = proxy("10.2.0.1", "demo", Map.of());
    ProxyView elsewhere = proxy("10.3.0.1", "other", Map.of());

    Cluster seenFromDemo = (Cluster) generator.clusters(snapshot, inDemo).resources().get(CLUSTER);
    Cluster seenFromOther =
        (Cluster) generator.clusters(snapshot, elsewhere).resources().get(CLUSTER);

    assertThat(seenFromDemo.hasOutlierDetection()).isTrue();
    assertThat(seenFromOther.hasOutlierDetection())
        .as("the rule is exported to demo only")
        .isFalse();
    assertThat(generator.clusters(snapshot, elsewhere).resources()).doesNotContainKey(V2);
  }

  @Test
  void virtualServiceMatchingSourceLabels_givesEachLabelSetItsOwnRoutes() {
    MeshSnapshot snapshot = TestSnapshots.of("mesh", MESH + CANARY_FOR_TESTERS);
    ProxyView tester = proxy("10.2.0.1", "demo", Map.of("role", "tester"));
    ProxyView user = proxy("10.2.0.2", "demo", Map.of("role", "user"));
    ProxyView otherUser = proxy("10.2.0.3", "demo", Map.of("role", "user"));

    RouteConfiguration forTester = routes(snapshot, tester);
    RouteConfiguration forUser = routes(snapshot, user);

    assertThat(forTester.toString()).contains(V2);
    assertThat(forUser.toString()).doesNotContain(V2);
    assertThat(routes(snapshot, otherUser)).isSameAs(forUser);
  }

  @Test
  void newSnapshot_isGeneratedAfresh() {
    MeshSnapshot before = TestSnapshots.of("mesh", MESH + CANARY_FOR_ALL);
    MeshSnapshot after =
        TestSnapshots.of(
            "mesh",
            MESH
                + CANARY_FOR_ALL
                    .replace("weight: 90", "weight: 50")
                    .replace("weight: 10", "weight: 50"));
    ProxyView proxy = proxy("10.2.0.1", "demo", Map.of());

    assertThat(routes(before, proxy).toString()).contains("value: 90");
    assertThat(routes(after, proxy).toString()).doesNotContain("value: 90").contains("value: 50");
  }

  @Test
  void warningsOfSharedResources_reachEveryProxyThatGetsThem() {
    String lossy =
        MESH.replace(
                "trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}}",
                "trafficPolicy: {tls: {mode: SIMPLE, credentialName: echo-ca}}")
            + """
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: echo, namespace: demo}
            spec:
              hosts: [echo]
              http:
              - match: [{uri: {prefix: /admin}}]
                delegate: {name: echo-admin, namespace: demo}
              - route: [{destination: {host: echo}}]
            """;
    MeshSnapshot snapshot = TestSnapshots.of("mesh", lossy);
    ProxyView first = proxy("10.2.0.1", "demo", Map.of());
    ProxyView second = proxy("10.2.0.2", "demo", Map.of());

    Generated firstRoutes = generator.routes(snapshot, first, Set.of("8080"));
    Generated secondRoutes = generator.routes(snapshot, second, Set.of("8080"));
    Generated firstClusters = generator.clusters(snapshot, first);
    Generated secondClusters = generator.clusters(snapshot, second);

    assertThat(secondRoutes.resources()).isSameAs(firstRoutes.resources());
    assertThat(firstRoutes.warnings())
        .containsExactly(
            "VirtualService demo/echo spec.http[0]: delegate VirtualServices are not supported"
                + " yet; route left out");
    assertThat(secondRoutes.warnings()).isEqualTo(firstRoutes.warnings());
    assertThat(firstClusters.warnings())
        .isNotEmpty()
        .allMatch(w -> w.startsWith("DestinationRule demo/echo (outbound|8080|"))
        .allMatch(w -> w.contains("tls.credentialName echo-ca is honoured only by gateways"));
    assertThat(secondClusters.warnings()).isEqualTo(firstClusters.warnings());
    assertThat(generator.endpoints(snapshot, first, Set.of(CLUSTER)).warnings()).isEmpty();
  }

  private RouteConfiguration routes(MeshSnapshot snapshot, ProxyView proxy) {
    Message config = generator.routes(snapshot, proxy, Set.of("8080")).resources().get("8080");
    assertThat(config).isNotNull();
    return (RouteConfiguration) config;
  }

  private static ProxyView proxy(String ip, String namespace, Map<String, String> labels) {
    Struct.Builder labelStruct = Struct.newBuilder();
    labels.forEach(
        (k, v) -> labelStruct.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return ProxyView.of(
        Node.newBuilder()
            .setId(
                "sidecar~" + ip + "~client." + namespace + "~" + namespace + ".svc.cluster.local")
            .setMetadata(
                Struct.newBuilder()
                    .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build())
                    .putFields("LABELS", Value.newBuilder().setStructValue(labelStruct).build()))
            .build());
  }
}
