package dev.bosun.controlplane.xds.proxyless;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import java.util.List;
import java.util.Set;

/**
 * Configuration for proxyless gRPC clients (grpc-xds), a pure function of a snapshot and a proxy:
 * an API listener named exactly as the client dials ({@code host:port}), a route configuration with
 * one virtual host, EDS clusters (mTLS as DestinationRules or auto mTLS say) and their endpoints;
 * and listeners for proxyless gRPC servers (see {@link ProxylessServerListeners}).
 */
public final class ProxylessGenerator {
  private final ProxylessListeners listeners;
  private final ProxylessRoutes routes;
  private final ProxylessClusters clusters;
  private final ProxylessEndpoints endpoints;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public ProxylessGenerator(String domainSuffix) {
    this(domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public ProxylessGenerator(String domainSuffix, String trustDomain) {
    this.listeners = new ProxylessListeners(domainSuffix, trustDomain);
    this.routes = new ProxylessRoutes(domainSuffix);
    this.clusters = new ProxylessClusters(trustDomain);
    this.endpoints = new ProxylessEndpoints();
  }

  /** The generator of each type. */
  public List<TypeGenerator> types() {
    return List.of(listeners, routes, clusters, endpoints);
  }

  public Generated listeners(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return listeners.generate(snapshot, proxy, names);
  }

  public Generated routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return routes.generate(snapshot, proxy, names);
  }

  public Generated clusters(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return clusters.generate(snapshot, proxy, names);
  }

  public Generated endpoints(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return endpoints.generate(snapshot, proxy, names);
  }
}
