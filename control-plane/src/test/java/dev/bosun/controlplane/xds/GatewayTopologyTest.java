package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.meshconfig.MeshConfigParser;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.gateway.GatewayListeners;
import dev.bosun.controlplane.xds.scope.ProxyView;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * ProxyConfig {@code gatewayTopology} on a gateway's HTTP connection manager: the mesh's {@code
 * defaultConfig} applies unless the proxy's agent reports its own ProxyConfig, as istiod reads it.
 */
class GatewayTopologyTest {
  private static final Path INPUT =
      Path.of("src/test/resources/gateway-golden/ingress-bookinfo/input.yaml");

  private static Listener listener(MeshSnapshot snapshot, ProxyView proxy) {
    return (Listener)
        new GatewayListeners("cluster.local", "cluster.local")
            .generate(snapshot, proxy, Set.of())
            .resources()
            .get("0.0.0.0_8080");
  }

  private static HttpConnectionManager manager(MeshSnapshot snapshot, ProxyView proxy)
      throws Exception {
    Listener listener = listener(snapshot, proxy);
    return listener
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  private static ProxyView gateway(Struct proxyConfig) {
    Struct.Builder metadata =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("istio-system").build())
            .putFields(
                "LABELS",
                Value.newBuilder()
                    .setStructValue(
                        Struct.newBuilder()
                            .putFields(
                                "istio",
                                Value.newBuilder().setStringValue("ingressgateway").build()))
                    .build());
    if (proxyConfig != null) {
      metadata.putFields("PROXY_CONFIG", Value.newBuilder().setStructValue(proxyConfig).build());
    }
    return ProxyView.of(
        Node.newBuilder()
            .setId("router~10.44.0.2~ingress.istio-system~istio-system.svc.cluster.local")
            .setMetadata(metadata)
            .build());
  }

  @Test
  void accessLogFile_isOnTheGatewaysConnectionManager() throws Exception {
    MeshSnapshot snapshot =
        TestSnapshots.of(
            INPUT.toString(),
            Files.readString(INPUT),
            MeshConfigParser.parse("accessLogFile: /dev/stdout").config());

    HttpConnectionManager manager = manager(snapshot, gateway(null));

    assertThat(manager.getAccessLogList()).hasSize(1);
    var file =
        manager
            .getAccessLog(0)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.class);
    assertThat(file.getPath()).isEqualTo("/dev/stdout");
    assertThat(
            listener(snapshot, gateway(null))
                .getAccessLog(0)
                .getFilter()
                .getResponseFlagFilter()
                .getFlagsList())
        .as("and on the listener, for connections no chain took")
        .containsExactly("NR");
    assertThat(new dev.bosun.xds.EnvoyValidator().check(listener(snapshot, gateway(null))))
        .isEmpty();
  }

  @Test
  void meshDefault_appliesToAGatewayWithoutItsOwn_andTheAgentsProxyConfigWins() throws Exception {
    MeshSnapshot snapshot =
        TestSnapshots.of(
            INPUT.toString(),
            Files.readString(INPUT),
            MeshConfigParser.parse(
                    """
                    defaultConfig:
                      gatewayTopology: {numTrustedProxies: 1, forwardClientCertDetails: APPEND_FORWARD}
                    """)
                .config());

    HttpConnectionManager fromMesh = manager(snapshot, gateway(null));
    assertThat(fromMesh.getXffNumTrustedHops()).isEqualTo(1);
    assertThat(fromMesh.getForwardClientCertDetails())
        .isEqualTo(HttpConnectionManager.ForwardClientCertDetails.APPEND_FORWARD);
    assertThat(fromMesh.hasSetCurrentClientCertDetails()).isTrue();

    Struct own =
        Struct.newBuilder()
            .putFields(
                "gatewayTopology",
                Value.newBuilder()
                    .setStructValue(
                        Struct.newBuilder()
                            .putFields(
                                "numTrustedProxies", Value.newBuilder().setNumberValue(3).build())
                            .putFields(
                                "forwardClientCertDetails",
                                Value.newBuilder().setStringValue("SANITIZE").build())
                            .putFields(
                                "proxyProtocol",
                                Value.newBuilder()
                                    .setStructValue(Struct.getDefaultInstance())
                                    .build()))
                    .build())
            .build();
    HttpConnectionManager fromAgent = manager(snapshot, gateway(own));
    assertThat(fromAgent.getXffNumTrustedHops()).isEqualTo(3);
    assertThat(fromAgent.getForwardClientCertDetails())
        .isEqualTo(HttpConnectionManager.ForwardClientCertDetails.SANITIZE);
    assertThat(fromAgent.hasSetCurrentClientCertDetails())
        .as("istiod sets the client certificate details only when forwarding or setting them")
        .isFalse();
    assertThat(listener(snapshot, gateway(own)).getListenerFilters(0).getName())
        .isEqualTo("envoy.filters.listener.proxy_protocol");
    assertThat(listener(snapshot, gateway(null)).getListenerFiltersList()).isEmpty();

    HttpConnectionManager defaults =
        manager(TestSnapshots.of(INPUT.toString(), Files.readString(INPUT)), gateway(null));
    assertThat(defaults.getXffNumTrustedHops()).isZero();
    assertThat(defaults.getForwardClientCertDetails())
        .isEqualTo(HttpConnectionManager.ForwardClientCertDetails.SANITIZE_SET);
  }
}
