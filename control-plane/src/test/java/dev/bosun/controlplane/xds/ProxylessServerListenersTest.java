package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.ProxylessMtlsTest.MESH_POD;
import static dev.bosun.controlplane.xds.ProxylessMtlsTest.PLAIN_POD;
import static dev.bosun.controlplane.xds.ProxylessMtlsTest.mesh;
import static dev.bosun.controlplane.xds.ProxylessMtlsTest.proxy;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.proxyless.ProxylessGenerator;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.EnvoyJson;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Listeners for proxyless gRPC servers ({@code xds.istio.io/grpc/lds/inbound/<ip>:<port>}) by the
 * workload's PeerAuthentication. The STRICT listener is also kept as a golden file; run with {@code
 * -Dgolden.update=true} to rewrite it after a deliberate change.
 */
class ProxylessServerListenersTest {
  private static final String SERVER = "xds.istio.io/grpc/lds/inbound/0.0.0.0:7070";
  private static final Path GOLDEN =
      Path.of("src/test/resources/proxyless/server-listener-strict.json");

  private final EnvoyValidator validator = new EnvoyValidator();
  private final ProxylessGenerator generator =
      new ProxylessGenerator("cluster.local", "example.org");

  private Optional<Listener> serverListener(MeshSnapshot snapshot, ProxyView proxy, String name) {
    Message listener = generator.listeners(snapshot, proxy, Set.of(name)).resources().get(name);
    if (listener != null) {
      assertThat(validator.check(listener)).as("listener violates Envoy's constraints").isEmpty();
    }
    return Optional.ofNullable((Listener) listener);
  }

  private static final String STRICT =
      """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: demo}
      spec: {mtls: {mode: STRICT}}
      """;

  @Test
  void serverListener_strict_requiresClientCertificates_matchesGolden() throws Exception {
    Listener listener =
        serverListener(mesh(PLAIN_POD, PLAIN_POD, STRICT), proxy("10.0.0.1", Map.of()), SERVER)
            .orElseThrow();
    assertThat(listener.getName()).isEqualTo(SERVER);
    assertThat(listener.getTrafficDirection()).isEqualTo(TrafficDirection.INBOUND);
    assertThat(listener.getAddress().getSocketAddress().getAddress()).isEqualTo("0.0.0.0");
    assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(7070);
    FilterChain chain = listener.getFilterChains(0);
    assertThat(chain.getName()).isEqualTo("inbound-mtls");
    DownstreamTlsContext tls =
        chain.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
    assertThat(validator.check(tls)).isEmpty();
    assertThat(tls.getRequireClientCertificate().getValue()).isTrue();
    assertThat(tls.getCommonTlsContext().getTlsCertificateProviderInstance().getCertificateName())
        .isEqualTo("default");
    assertThat(
            tls.getCommonTlsContext()
                .getValidationContext()
                .getCaCertificateProviderInstance()
                .getCertificateName())
        .isEqualTo("ROOTCA");
    HttpConnectionManager manager =
        chain.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    assertThat(manager.getRouteConfig().getVirtualHosts(0).getRoutes(0).hasNonForwardingAction())
        .isTrue();
    assertThat(manager.getHttpFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.router");

    String actual = EnvoyJson.print(listener) + "\n";
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(GOLDEN.getParent());
      Files.writeString(GOLDEN, actual);
    }
    JsonNode expected = IstioJson.json().readTree(Files.readString(GOLDEN));
    assertThat(IstioJson.json().readTree(actual))
        .as("differs from %s (regenerate with -Dgolden.update=true and review the diff)", GOLDEN)
        .isEqualTo(expected);
  }

  @Test
  void serverListener_permissive_isPlaintext() {
    FilterChain chain =
        serverListener(mesh(PLAIN_POD, PLAIN_POD, ""), proxy("10.0.0.1", Map.of()), SERVER)
            .orElseThrow()
            .getFilterChains(0);
    assertThat(chain.getName()).isEqualTo("inbound-plaintext");
    assertThat(chain.hasTransportSocket()).isFalse();
  }

  @Test
  void serverListener_permissiveWithTlsModeLabel_isStrict() {
    FilterChain chain =
        serverListener(mesh(MESH_POD, PLAIN_POD, ""), proxy("10.0.0.1", Map.of()), SERVER)
            .orElseThrow()
            .getFilterChains(0);
    assertThat(chain.getName()).isEqualTo("inbound-mtls");
    assertThat(chain.hasTransportSocket()).isTrue();
  }

  @Test
  void serverListener_portLevelDisable_isPlaintextOnThatPortOnly() {
    String policy =
        STRICT
            + """
            ---
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: echo, namespace: demo}
            spec:
              selector: {matchLabels: {app: echo}}
              portLevelMtls: {7070: {mode: DISABLE}}
            """;
    MeshSnapshot snapshot = mesh(PLAIN_POD, PLAIN_POD, policy);
    ProxyView server = proxy("10.0.0.1", Map.of("app", "echo"));
    assertThat(serverListener(snapshot, server, SERVER).orElseThrow().getFilterChains(0).getName())
        .isEqualTo("inbound-plaintext");
    String other = "xds.istio.io/grpc/lds/inbound/0.0.0.0:8080";
    assertThat(serverListener(snapshot, server, other).orElseThrow().getFilterChains(0).getName())
        .isEqualTo("inbound-mtls");
  }

  @Test
  void serverListener_ipv6Address_isUnbracketed() {
    Listener listener =
        serverListener(
                mesh(PLAIN_POD, PLAIN_POD, ""),
                proxy("10.0.0.1", Map.of()),
                "xds.istio.io/grpc/lds/inbound/[::]:7070")
            .orElseThrow();
    assertThat(listener.getAddress().getSocketAddress().getAddress()).isEqualTo("::");
  }

  @Test
  void serverListener_malformedName_isLeftOut() {
    MeshSnapshot snapshot = mesh(PLAIN_POD, PLAIN_POD, "");
    for (String name :
        List.of(
            "xds.istio.io/grpc/lds/inbound/",
            "xds.istio.io/grpc/lds/inbound/0.0.0.0",
            "xds.istio.io/grpc/lds/inbound/0.0.0.0:http",
            "xds.istio.io/grpc/lds/inbound/0.0.0.0:0")) {
      assertThat(serverListener(snapshot, proxy("10.0.0.1", Map.of()), name)).as(name).isEmpty();
    }
  }
}
