package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.envoy.GrpcTlsBuilder;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * mTLS in Envoy sidecar configuration, one rule per test (the golden cases {@code mtls-*} show
 * whole outputs): the inbound listener per PeerAuthentication mode, auto mTLS on clusters, and
 * DestinationRule TLS origination. Every TLS context is checked against Envoy's constraints as the
 * typed message.
 */
class SidecarMtlsTest {
  private final EnvoyValidator validator = new EnvoyValidator();
  private final SidecarGenerator generator = new SidecarGenerator("cluster.local", "example.org");

  private static final ProxyView API =
      new ProxyView(
          "sidecar~10.0.0.1~api-1.demo~demo.svc.cluster.local",
          "sidecar",
          "10.0.0.1",
          "demo",
          Map.of("app", "api"),
          "",
          Locality.UNKNOWN,
          "",
          "",
          List.of());

  private static MeshSnapshot mesh(String policies) {
    return TestSnapshots.of(
        "mesh.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata: {name: api, namespace: demo}
        spec: {clusterIP: 10.96.0.20, ports: [{name: http, port: 8080}, {name: tcp-db, port: 5432}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-1, namespace: demo, labels: {app: api, security.istio.io/tlsMode: istio}}
        spec: {serviceAccountName: api, containers: [{name: api, image: api}]}
        status: {podIP: 10.0.0.1}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: api-1, namespace: demo, labels: {kubernetes.io/service-name: api}}
        addressType: IPv4
        ports: [{name: http, port: 8080}, {name: tcp-db, port: 5432}]
        endpoints:
        - addresses: [10.0.0.1]
          targetRef: {kind: Pod, name: api-1, namespace: demo}
        ---
        """
            + policies);
  }

  private Listener inbound(MeshSnapshot snapshot) throws Exception {
    Listener listener =
        (Listener) generator.listeners(snapshot, API).resources().get("virtualInbound");
    assertThat(validator.check(listener)).isEmpty();
    for (FilterChain chain : listener.getFilterChainsList()) {
      if (chain.hasTransportSocket()) {
        DownstreamTlsContext tls =
            chain.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
        assertThat(validator.check(tls)).as(chain.getName()).isEmpty();
        assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
        assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
            .isEqualTo("default");
        assertThat(
                tls.getCommonTlsContext()
                    .getCombinedValidationContext()
                    .getValidationContextSdsSecretConfig()
                    .getName())
            .isEqualTo("ROOTCA");
      }
    }
    return listener;
  }

  private static List<String> chainNames(Listener listener) {
    return listener.getFilterChainsList().stream().map(FilterChain::getName).toList();
  }

  private static String namespacePolicy(String mode) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: demo}
        spec: {mtls: {mode: %s}}
        """
        .formatted(mode);
  }

  @Test
  void inbound_disable_keepsPlaintextChainsWithoutTlsInspector() throws Exception {
    Listener listener = inbound(mesh(namespacePolicy("DISABLE")));
    assertThat(chainNames(listener)).containsExactly("inbound|5432||", "inbound|8080||");
    assertThat(listener.getFilterChains(0).getFilterChainMatch().getTransportProtocol()).isEmpty();
    assertThat(listener.hasDefaultFilterChain()).isTrue();
    assertThat(listener.getListenerFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.listener.original_dst");
  }

  @Test
  void inbound_permissive_hasTlsAndPlaintextChains() throws Exception {
    Listener listener = inbound(mesh(""));
    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||-mtls",
            "inbound|5432||",
            "inbound|8080||-mtls",
            "inbound|8080||",
            "virtualInbound-mtls");
    assertThat(listener.getFilterChains(0).getFilterChainMatch().getApplicationProtocolsList())
        .contains("istio", "istio-peer-exchange");
    assertThat(listener.getFilterChains(1).getFilterChainMatch().getTransportProtocol())
        .isEqualTo("raw_buffer");
    assertThat(listener.hasDefaultFilterChain()).isTrue();
    assertThat(listener.getListenerFiltersList())
        .extracting(f -> f.getName())
        .contains("envoy.filters.listener.tls_inspector");
  }

  @Test
  void inbound_strict_hasNoPlaintextPath() throws Exception {
    Listener listener = inbound(mesh(namespacePolicy("STRICT")));
    assertThat(chainNames(listener))
        .containsExactly("inbound|5432||-mtls", "inbound|8080||-mtls", "virtualInbound-mtls");
    assertThat(listener.getFilterChains(0).getFilterChainMatch().getApplicationProtocolsList())
        .as("STRICT takes any mesh client")
        .isEmpty();
    assertThat(listener.hasDefaultFilterChain()).isFalse();
  }

  @Test
  void inbound_strictPortInPermissiveWorkload_refusesPlaintextOnThatPort() throws Exception {
    Listener listener =
        inbound(
            mesh(
                """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: api, namespace: demo}
                spec:
                  selector: {matchLabels: {app: api}}
                  portLevelMtls: {5432: {mode: STRICT}}
                """));
    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||-mtls",
            "inbound|5432||-plaintext-refused",
            "inbound|8080||-mtls",
            "inbound|8080||",
            "virtualInbound-mtls");
    assertThat(listener.getFilterChains(1).getFilters(0).getTypedConfig().toString())
        .contains("BlackHoleCluster");
    assertThat(listener.hasDefaultFilterChain()).isTrue();
  }

  private static String workloadPolicy(String mode, String portLevelMtls) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: api, namespace: demo}
        spec:
          selector: {matchLabels: {app: api}}
          mtls: {mode: %s}
          portLevelMtls: %s
        """
        .formatted(mode, portLevelMtls);
  }

  private static FilterChain chain(Listener listener, String name) {
    return listener.getFilterChainsList().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no chain " + name + " in " + chainNames(listener)));
  }

  private static String cluster(FilterChain chain) throws Exception {
    Filter proxy = chain.getFilters(chain.getFiltersCount() - 1);
    return proxy.getTypedConfig().unpack(TcpProxy.class).getCluster();
  }

  @Test
  void inbound_strictUndeclaredPortInPermissiveWorkload_refusesPlaintextOnThatPort()
      throws Exception {
    Listener listener = inbound(mesh(workloadPolicy("PERMISSIVE", "{9000: {mode: STRICT}}")));

    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||-mtls",
            "inbound|5432||",
            "inbound|8080||-mtls",
            "inbound|8080||",
            "virtualInbound|9000-mtls",
            "virtualInbound|9000-plaintext-refused",
            "virtualInbound-mtls");
    FilterChain mtls = chain(listener, "virtualInbound|9000-mtls");
    assertThat(mtls.getFilterChainMatch().getDestinationPort().getValue()).isEqualTo(9000);
    assertThat(mtls.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls");
    assertThat(mtls.getFilterChainMatch().getApplicationProtocolsList())
        .as("STRICT takes any mesh client")
        .isEmpty();
    assertThat(mtls.hasTransportSocket()).isTrue();
    assertThat(cluster(mtls)).isEqualTo("InboundPassthroughCluster");
    FilterChain refused = chain(listener, "virtualInbound|9000-plaintext-refused");
    assertThat(refused.getFilterChainMatch().getDestinationPort().getValue()).isEqualTo(9000);
    assertThat(refused.getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
    assertThat(cluster(refused)).isEqualTo("BlackHoleCluster");
    assertThat(listener.hasDefaultFilterChain()).as("other ports still take plaintext").isTrue();
  }

  @Test
  void inbound_disableUndeclaredPortInStrictWorkload_passesAnyTransportThrough() throws Exception {
    Listener listener = inbound(mesh(workloadPolicy("STRICT", "{9000: {mode: DISABLE}}")));

    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||-mtls",
            "inbound|8080||-mtls",
            "virtualInbound|9000",
            "virtualInbound-mtls");
    FilterChain plaintext = chain(listener, "virtualInbound|9000");
    assertThat(plaintext.getFilterChainMatch())
        .isEqualTo(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(9000)).build());
    assertThat(plaintext.hasTransportSocket()).isFalse();
    assertThat(cluster(plaintext)).isEqualTo("InboundPassthroughCluster");
    assertThat(listener.hasDefaultFilterChain()).isFalse();
  }

  @Test
  void inbound_permissiveUndeclaredPortInStrictWorkload_takesMtlsAndPlaintext() throws Exception {
    Listener listener = inbound(mesh(workloadPolicy("STRICT", "{9000: {mode: PERMISSIVE}}")));

    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||-mtls",
            "inbound|8080||-mtls",
            "virtualInbound|9000-mtls",
            "virtualInbound|9000",
            "virtualInbound-mtls");
    assertThat(
            chain(listener, "virtualInbound|9000-mtls")
                .getFilterChainMatch()
                .getApplicationProtocolsList())
        .contains("istio", "istio-peer-exchange");
    assertThat(chain(listener, "virtualInbound|9000").getFilterChainMatch().getTransportProtocol())
        .isEqualTo("raw_buffer");
  }

  @Test
  void inbound_strictUndeclaredPortInDisabledWorkload_inspectsTls() throws Exception {
    Listener listener = inbound(mesh(workloadPolicy("DISABLE", "{9000: {mode: STRICT}}")));

    assertThat(chainNames(listener))
        .containsExactly(
            "inbound|5432||",
            "inbound|8080||",
            "virtualInbound|9000-mtls",
            "virtualInbound|9000-plaintext-refused");
    assertThat(listener.getListenerFiltersList())
        .extracting(f -> f.getName())
        .contains("envoy.filters.listener.tls_inspector");
  }

  @Test
  void inbound_undeclaredPortWithTheWorkloadsOwnMode_needsNoChainOfItsOwn() throws Exception {
    Listener listener = inbound(mesh(workloadPolicy("STRICT", "{9000: {mode: STRICT}}")));

    assertThat(chainNames(listener))
        .containsExactly("inbound|5432||-mtls", "inbound|8080||-mtls", "virtualInbound-mtls");
  }

  @Test
  @SuppressWarnings("deprecation")
  void clusters_autoMtls_socketMatchesWithTrustDomainIdentities() throws Exception {
    Cluster cluster =
        (Cluster)
            generator
                .clusters(mesh(""), API)
                .resources()
                .get("outbound|8080||api.demo.svc.cluster.local");
    assertThat(validator.check(cluster)).isEmpty();
    assertThat(cluster.getTransportSocketMatchesList())
        .extracting(m -> m.getName())
        .containsExactly("tlsMode-istio", "tlsMode-disabled");
    assertThat(
            cluster
                .getTransportSocketMatches(0)
                .getMatch()
                .getFieldsOrThrow("tlsMode")
                .getStringValue())
        .isEqualTo("istio");
    assertThat(cluster.getTransportSocketMatches(1).getTransportSocket().getName())
        .isEqualTo("envoy.transport_sockets.raw_buffer");
    UpstreamTlsContext tls =
        cluster
            .getTransportSocketMatches(0)
            .getTransportSocket()
            .getTypedConfig()
            .unpack(UpstreamTlsContext.class);
    assertThat(validator.check(tls)).isEmpty();
    assertThat(tls.getSni()).isEqualTo("outbound_.8080_._.api.demo.svc.cluster.local");
    assertThat(tls.getCommonTlsContext().getAlpnProtocolsList())
        .containsExactly("istio-peer-exchange", "istio");
    assertThat(
            tls.getCommonTlsContext()
                .getCombinedValidationContext()
                .getDefaultValidationContext()
                .getMatchSubjectAltNamesList())
        .extracting(m -> m.getExact())
        .containsExactly("spiffe://example.org/ns/demo/sa/api");
  }

  private static String apiTls(String tls) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: api, namespace: demo}
        spec: {host: api, trafficPolicy: {tls: %s}}
        """
        .formatted(tls);
  }

  private UpstreamTlsContext originatedTls(MeshSnapshot snapshot) throws Exception {
    Cluster cluster =
        (Cluster)
            generator
                .clusters(snapshot, API)
                .resources()
                .get("outbound|8080||api.demo.svc.cluster.local");
    assertThat(validator.check(cluster)).isEmpty();
    assertThat(cluster.getTransportSocketMatchesList()).isEmpty();
    assertThat(cluster.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
    UpstreamTlsContext tls =
        cluster.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(validator.check(tls)).isEmpty();
    return tls;
  }

  private static String rootSecret(UpstreamTlsContext tls) {
    return tls.getCommonTlsContext()
        .getCombinedValidationContext()
        .getValidationContextSdsSecretConfig()
        .getName();
  }

  @Test
  void clusters_simpleWithCredentialName_usesSystemRootsAsIstioSidecarsDo() throws Exception {
    UpstreamTlsContext tls =
        originatedTls(mesh(apiTls("{mode: SIMPLE, credentialName: api-ca, sni: api.example.com}")));
    assertThat(rootSecret(tls)).isEqualTo("file-root:system");
    assertThat(tls.getSni()).isEqualTo("api.example.com");
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigsList()).isEmpty();
  }

  @Test
  void clusters_mutualWithCredentialNameAndFiles_usesTheFiles() throws Exception {
    UpstreamTlsContext tls =
        originatedTls(
            mesh(
                apiTls(
                    "{mode: MUTUAL, credentialName: api-client, clientCertificate: /etc/c.pem,"
                        + " privateKey: /etc/k.pem, caCertificates: /etc/ca.pem}")));
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigsList())
        .extracting(s -> s.getName())
        .containsExactly("file-cert:/etc/c.pem~/etc/k.pem");
    assertThat(rootSecret(tls)).isEqualTo("file-root:/etc/ca.pem");
  }

  @Test
  void clusters_mutualWithoutClientCertificate_staysTlsWithoutOne() throws Exception {
    UpstreamTlsContext tls =
        originatedTls(mesh(apiTls("{mode: MUTUAL, credentialName: api-client}")));
    assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigsList()).isEmpty();
    assertThat(rootSecret(tls)).isEqualTo("file-root:system");
  }

  @Test
  void typedContexts_passEnvoyConstraints() {
    assertThat(
            validator.check(
                EnvoyTlsBuilder.istioMutual("sni", List.of("spiffe://a/ns/b/sa/c"), true)))
        .isEmpty();
    assertThat(validator.check(EnvoyTlsBuilder.istioMutualServer(true))).isEmpty();
    assertThat(validator.check(EnvoyTlsBuilder.istioMutualServer(false))).isEmpty();
    assertThat(validator.check(GrpcTlsBuilder.client(List.of()))).isEmpty();
    assertThat(validator.check(GrpcTlsBuilder.server())).isEmpty();
  }
}
