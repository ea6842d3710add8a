package dev.bosun.controlplane.xds.sidecar;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.policy.UpstreamTls;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import java.util.List;
import java.util.Set;

/**
 * Envoy sidecar configuration, a pure function of a snapshot and a proxy, with Istio's names, from
 * one generator per type ({@link SidecarClusters}, {@link SidecarEndpoints}, {@link
 * SidecarListeners}, {@link SidecarRoutes}): clusters {@code outbound|<port>|<subset>|<host>} and
 * {@code inbound|<port>||}, {@code PassthroughCluster} and {@code BlackHoleCluster}; listeners
 * {@code virtualOutbound} (15001), one per outbound HTTP port ({@code 0.0.0.0_<port>}, routes from
 * RDS {@code <port>}) or TCP service ({@code <ip>_<port>}), and {@code virtualInbound} (15006) with
 * chains per inbound port and mTLS mode ({@link SidecarInbound}). Outbound clusters use mTLS as
 * DestinationRules or auto mTLS say ({@link UpstreamTls}).
 */
public final class SidecarGenerator {
  private final SidecarClusters clusters;
  private final SidecarEndpoints endpoints;
  private final SidecarListeners listeners;
  private final SidecarRoutes routes;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public SidecarGenerator(String domainSuffix) {
    this(domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public SidecarGenerator(String domainSuffix, String trustDomain) {
    this.clusters = new SidecarClusters(trustDomain);
    this.endpoints = new SidecarEndpoints();
    this.listeners = new SidecarListeners(domainSuffix, trustDomain);
    this.routes = new SidecarRoutes(domainSuffix);
  }

  /** The generator of each type. */
  public List<TypeGenerator> types() {
    return List.of(clusters, endpoints, listeners, routes);
  }

  /** Every cluster of the proxy. */
  public Generated clusters(MeshSnapshot snapshot, ProxyView proxy) {
    return clusters.generate(snapshot, proxy, Set.of());
  }

  public Generated endpoints(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return endpoints.generate(snapshot, proxy, names);
  }

  /** Every listener of the proxy. */
  public Generated listeners(MeshSnapshot snapshot, ProxyView proxy) {
    return listeners.generate(snapshot, proxy, Set.of());
  }

  public Generated routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return routes.generate(snapshot, proxy, names);
  }
}
