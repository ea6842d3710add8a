package dev.bosun.controlplane.xds.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails;
import java.util.Map;

/**
 * ProxyConfig {@code gatewayTopology} as istiod reads it for a gateway's HTTP connection manager:
 * from the ProxyConfig the proxy's agent reports ({@code PROXY_CONFIG} node metadata), else the
 * mesh's {@code defaultConfig}. {@code numTrustedProxies} is the number of proxies in front of the
 * gateway whose {@code X-Forwarded-For} entries are trusted; {@code forwardClientCertDetails}
 * replaces istiod's default {@code SANITIZE_SET}; a {@code proxyProtocol} (any value) makes the
 * gateway's listeners read the PROXY protocol header its load balancer sends.
 */
record GatewayTopology(
    int numTrustedProxies,
    ForwardClientCertDetails forwardClientCertDetails,
    boolean proxyProtocol) {
  /** Istio's enum names, as Envoy's (Istio's has UNDEFINED first, which keeps the default). */
  private static final Map<String, ForwardClientCertDetails> DETAILS =
      Map.of(
          "SANITIZE", ForwardClientCertDetails.SANITIZE,
          "FORWARD_ONLY", ForwardClientCertDetails.FORWARD_ONLY,
          "APPEND_FORWARD", ForwardClientCertDetails.APPEND_FORWARD,
          "SANITIZE_SET", ForwardClientCertDetails.SANITIZE_SET,
          "ALWAYS_FORWARD_ONLY", ForwardClientCertDetails.ALWAYS_FORWARD_ONLY);

  static GatewayTopology of(MeshSnapshot snapshot, ProxyView proxy) {
    Value reported = proxy.proxyConfig().getFieldsMap().get("gatewayTopology");
    if (reported != null && reported.hasStructValue()) {
      Struct topology = reported.getStructValue();
      Value hops = topology.getFieldsMap().get("numTrustedProxies");
      Value details = topology.getFieldsMap().get("forwardClientCertDetails");
      return of(
          hops == null ? 0 : (int) hops.getNumberValue(),
          details == null ? "" : details.getStringValue(),
          topology.getFieldsMap().containsKey("proxyProtocol"));
    }
    JsonNode mesh = snapshot.meshConfig().defaultConfig().path("gatewayTopology");
    return of(
        mesh.path("numTrustedProxies").asInt(0),
        mesh.path("forwardClientCertDetails").asText(""),
        mesh.has("proxyProtocol") && !mesh.path("proxyProtocol").isNull());
  }

  private static GatewayTopology of(int hops, String details, boolean proxyProtocol) {
    return new GatewayTopology(
        Math.max(hops, 0),
        DETAILS.getOrDefault(details, ForwardClientCertDetails.SANITIZE_SET),
        proxyProtocol);
  }

  /** Whether Envoy sets the client certificate details header (istiod: only for these two). */
  boolean setsClientCertDetails() {
    return forwardClientCertDetails == ForwardClientCertDetails.APPEND_FORWARD
        || forwardClientCertDetails == ForwardClientCertDetails.SANITIZE_SET;
  }
}
