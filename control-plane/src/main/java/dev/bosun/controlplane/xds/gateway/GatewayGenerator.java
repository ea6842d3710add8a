package dev.bosun.controlplane.xds.gateway;

import dev.bosun.controlplane.xds.scope.TypeGenerator;
import java.util.List;

/**
 * Envoy gateway configuration (Istio's {@code router} proxies, such as the stock ingress gateway),
 * a pure function of a snapshot and a proxy: the Gateways that select the proxy, merged onto its
 * listening ports ({@link GatewayServers}), as listeners ({@link GatewayListeners}), route
 * configurations from the VirtualServices bound to them ({@link GatewayRoutes}), and the outbound
 * clusters and endpoints they reach ({@link GatewayClusters}, {@link GatewayEndpoints}), and the
 * certificates of their TLS servers ({@link GatewaySecrets}).
 */
public final class GatewayGenerator {
  private final List<TypeGenerator> types;

  public GatewayGenerator(String domainSuffix, String trustDomain) {
    this.types =
        List.of(
            new GatewayClusters(trustDomain),
            new GatewayEndpoints(),
            new GatewayListeners(domainSuffix, trustDomain),
            new GatewayRoutes(domainSuffix),
            new GatewaySecrets());
  }

  /** The generator of each type. */
  public List<TypeGenerator> types() {
    return types;
  }
}
