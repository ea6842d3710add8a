package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.proxyless.ProxylessGenerator;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mTLS for proxyless gRPC clients: DestinationRule or all-or-nothing auto mTLS on clusters, with
 * certificates from the bootstrap's certificate provider instance, and no endpoints where a
 * DestinationRule asks for TLS they cannot originate. Every resource and every TLS context must
 * pass Envoy's constraints, since the xDS server holds back what fails them.
 */
class ProxylessMtlsTest {
  private static final String CLUSTER = "outbound|7070||echo.demo.svc.cluster.local";

  private final EnvoyValidator validator = new EnvoyValidator();
  private final ProxylessGenerator generator =
      new ProxylessGenerator("cluster.local", "example.org");

  /** The echo service with two pods (labels given), and extra documents. */
  static MeshSnapshot mesh(String labels1, String labels2, String extra) {
    return TestSnapshots.of(
        "mesh.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: demo}
        spec: {clusterIP: 10.96.0.10, ports: [{name: grpc, port: 7070}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-1, namespace: demo, labels: %s}
        spec: {serviceAccountName: echo, containers: [{name: echo, image: echo}]}
        status: {podIP: 10.0.0.1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-2, namespace: demo, labels: %s}
        spec: {serviceAccountName: echo-canary, containers: [{name: echo, image: echo}]}
        status: {podIP: 10.0.0.2}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo, namespace: demo, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: 7070}]
        endpoints:
        - addresses: [10.0.0.1]
          targetRef: {kind: Pod, name: echo-1, namespace: demo}
        - addresses: [10.0.0.2]
          targetRef: {kind: Pod, name: echo-2, namespace: demo}
        ---
        """
                .formatted(labels1, labels2)
            + extra);
  }

  static final String MESH_POD = "{app: echo, security.istio.io/tlsMode: istio}";
  static final String PLAIN_POD = "{app: echo}";

  static ProxyView proxy(String ip, Map<String, String> labels) {
    return new ProxyView(
        "sidecar~" + ip + "~echo-1.demo~demo.svc.cluster.local",
        "sidecar",
        ip,
        "demo",
        labels,
        "grpc",
        Locality.UNKNOWN,
        "",
        "",
        List.of());
  }

  private static final ProxyView CLIENT = proxy("10.0.0.99", Map.of("app", "client"));

  private Cluster cluster(MeshSnapshot snapshot) {
    Message cluster =
        generator.clusters(snapshot, CLIENT, Set.of(CLUSTER)).resources().get(CLUSTER);
    assertThat(validator.check(cluster)).as("cluster violates Envoy's constraints").isEmpty();
    assertThat(((Cluster) cluster).getTransportSocketMatchesList())
        .as("grpc-xds rejects transport_socket_matches")
        .isEmpty();
    return (Cluster) cluster;
  }

  private UpstreamTlsContext tls(Cluster cluster) throws Exception {
    assertThat(cluster.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
    UpstreamTlsContext context =
        cluster.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(validator.check(context)).isEmpty();
    return context;
  }

  @Test
  @SuppressWarnings("deprecation")
  void clusters_autoMtls_everyEndpointLabelled_usesMeshCertificatesAndServerIdentities()
      throws Exception {
    UpstreamTlsContext context = tls(cluster(mesh(MESH_POD, MESH_POD, "")));
    var common = context.getCommonTlsContext();
    assertThat(common.getTlsCertificateProviderInstance().getInstanceName()).isEqualTo("default");
    assertThat(common.getTlsCertificateProviderInstance().getCertificateName())
        .isEqualTo("default");
    assertThat(common.hasTlsParams()).as("grpc-xds rejects tls_params").isFalse();
    var validation = common.getValidationContext();
    assertThat(validation.getCaCertificateProviderInstance().getInstanceName())
        .isEqualTo("default");
    assertThat(validation.getCaCertificateProviderInstance().getCertificateName())
        .isEqualTo("ROOTCA");
    assertThat(validation.getMatchSubjectAltNamesList())
        .extracting(m -> m.getExact())
        .containsExactly(
            "spiffe://example.org/ns/demo/sa/echo", "spiffe://example.org/ns/demo/sa/echo-canary");
  }

  @Test
  void clusters_autoMtls_oneEndpointWithoutSidecar_isPlaintext() {
    assertThat(cluster(mesh(MESH_POD, PLAIN_POD, "")).hasTransportSocket()).isFalse();
  }

  @Test
  void clusters_autoMtls_destinationNamespaceDisabled_isPlaintext() {
    String disable =
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: demo}
        spec: {mtls: {mode: DISABLE}}
        """;
    assertThat(cluster(mesh(MESH_POD, MESH_POD, disable)).hasTransportSocket()).isFalse();
  }

  @Test
  void clusters_autoMtls_oneWorkloadDisablesItsPort_isPlaintext() {
    String disable =
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: canary, namespace: demo}
        spec:
          selector: {matchLabels: {track: canary}}
          portLevelMtls: {7070: {mode: DISABLE}}
        """;
    MeshSnapshot snapshot =
        mesh(MESH_POD, "{app: echo, track: canary, security.istio.io/tlsMode: istio}", disable);
    assertThat(cluster(snapshot).hasTransportSocket()).isFalse();
  }

  @Test
  void clusters_destinationRuleIstioMutual_usesMtlsWithoutLabels() throws Exception {
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: demo}
        spec:
          host: echo
          trafficPolicy:
            portLevelSettings:
            - port: {number: 7070}
              tls: {mode: ISTIO_MUTUAL}
        """;
    UpstreamTlsContext context = tls(cluster(mesh(PLAIN_POD, PLAIN_POD, rule)));
    assertThat(context.getCommonTlsContext().getValidationContext().getMatchSubjectAltNamesCount())
        .isEqualTo(2);
  }

  @Test
  void clusters_destinationRuleDisable_isPlaintextEvenWithSidecars() {
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: demo}
        spec: {host: echo, trafficPolicy: {tls: {mode: DISABLE}}}
        """;
    assertThat(cluster(mesh(MESH_POD, MESH_POD, rule)).hasTransportSocket()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{mode: SIMPLE, caCertificates: /etc/ca.pem}",
        "{mode: SIMPLE, credentialName: echo-ca}",
        "{mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem}"
      })
  void endpoints_destinationRuleOriginatesTls_noneRatherThanPlaintext(String tls) {
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: demo}
        spec: {host: echo, trafficPolicy: {tls: %s}}
        """
            .formatted(tls);
    MeshSnapshot snapshot = mesh(MESH_POD, MESH_POD, rule);
    cluster(snapshot);
    ClusterLoadAssignment assignment =
        (ClusterLoadAssignment)
            generator.endpoints(snapshot, CLIENT, Set.of(CLUSTER)).resources().get(CLUSTER);
    assertThat(validator.check(assignment)).isEmpty();
    assertThat(assignment.getEndpointsList())
        .as("grpc-xds cannot originate this TLS, so nothing may be sent in plaintext")
        .isEmpty();
    ClusterLoadAssignment sidecars =
        (ClusterLoadAssignment)
            new SidecarGenerator("cluster.local")
                .endpoints(snapshot, CLIENT, Set.of(CLUSTER))
                .resources()
                .get(CLUSTER);
    assertThat(sidecars.getEndpoints(0).getLbEndpointsList())
        .as("sidecars originate the TLS themselves")
        .hasSize(2);
  }

  @Test
  void endpoints_carryTlsModeMetadata_onlyWhereMtlsIsAccepted() {
    ClusterLoadAssignment assignment =
        (ClusterLoadAssignment)
            generator
                .endpoints(mesh(MESH_POD, PLAIN_POD, ""), CLIENT, Set.of(CLUSTER))
                .resources()
                .get(CLUSTER);
    assertThat(validator.check(assignment)).isEmpty();
    var endpoints = assignment.getEndpoints(0).getLbEndpointsList();
    assertThat(endpoints).hasSize(2);
    assertThat(endpoints.get(0).getMetadata().getFilterMetadataMap())
        .containsKey("envoy.transport_socket_match");
    assertThat(
            endpoints
                .get(0)
                .getMetadata()
                .getFilterMetadataOrThrow("envoy.transport_socket_match")
                .getFieldsOrThrow("tlsMode")
                .getStringValue())
        .isEqualTo("istio");
    assertThat(endpoints.get(1).hasMetadata()).isFalse();
  }
}
