package dev.bosun.controlplane.xds.sidecar;

import com.google.protobuf.Any;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.fabric8.istio.api.api.networking.v1alpha3.L4MatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.RouteDestination;
import io.fabric8.istio.api.api.networking.v1alpha3.TCPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSMatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A VirtualService's {@code tcp} and {@code tls} routes for one outbound TCP or TLS service port:
 * TLS routes become filter chains matched on SNI (with the TLS inspector), the first TCP route that
 * applies to this proxy becomes the default chain; both forward with a TCP proxy to weighted
 * clusters. Without a VirtualService the port forwards to the service's cluster.
 */
public final class TcpRoutes {
  private TcpRoutes() {}

  /** The filter chains, and whether the listener needs the TLS inspector. */
  record Chains(List<FilterChain> chains, boolean sni) {}

  static Chains chains(
      MeshSnapshot snapshot,
      ProxyView proxy,
      MeshService service,
      int port,
      String statPrefix,
      HttpRoutes names) {
    String defaultCluster = EnvoyNames.outboundCluster(port, "", service.hostname());
    Optional<ConfigEntry> entry =
        snapshot.config().virtualService(service.hostname(), proxy.namespace());
    List<FilterChain> chains = new ArrayList<>();
    boolean sni = false;
    String tcpTarget = null;
    List<RouteDestination> tcpDestinations = null;
    if (entry.isPresent()) {
      VirtualService spec = entry.get().spec(VirtualService.class);
      String namespace = entry.get().key().namespace();
      for (TLSRoute route : spec.getTls() == null ? List.<TLSRoute>of() : spec.getTls()) {
        for (TLSMatchAttributes match :
            route.getMatch() == null ? List.<TLSMatchAttributes>of() : route.getMatch()) {
          if ((match.getPort() != null && match.getPort() != port)
              || !sourceMatches(match.getSourceLabels(), match.getSourceNamespace(), proxy)) {
            continue;
          }
          chains.add(
              FilterChain.newBuilder()
                  .setFilterChainMatch(
                      FilterChainMatch.newBuilder().addAllServerNames(match.getSniHosts()))
                  .addFilters(
                      tcpProxy(snapshot, statPrefix, route.getRoute(), namespace, port, names))
                  .build());
          sni = true;
        }
      }
      for (TCPRoute route : spec.getTcp() == null ? List.<TCPRoute>of() : spec.getTcp()) {
        boolean applies =
            route.getMatch() == null
                || route.getMatch().isEmpty()
                || route.getMatch().stream().anyMatch(m -> l4Applies(m, proxy, port));
        if (applies && route.getRoute() != null && !route.getRoute().isEmpty()) {
          tcpDestinations = route.getRoute();
          tcpTarget = namespace;
          break;
        }
      }
    }
    Filter fallback =
        tcpDestinations != null
            ? tcpProxy(snapshot, statPrefix, tcpDestinations, tcpTarget, port, names)
            : EnvoyFilters.tcpProxy(statPrefix, defaultCluster);
    chains.add(FilterChain.newBuilder().addFilters(fallback).build());
    return new Chains(chains, sni);
  }

  public static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder()
        .setName("envoy.filters.listener.tls_inspector")
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance()))
        .build();
  }

  private static boolean l4Applies(L4MatchAttributes match, ProxyView proxy, int port) {
    return (match.getPort() == null || match.getPort() == port)
        && sourceMatches(match.getSourceLabels(), match.getSourceNamespace(), proxy);
  }

  private static boolean sourceMatches(
      Map<String, String> labels, String namespace, ProxyView proxy) {
    if (namespace != null && !namespace.equals(proxy.namespace())) {
      return false;
    }
    if (labels != null) {
      for (Map.Entry<String, String> label : labels.entrySet()) {
        if (!label.getValue().equals(proxy.labels().get(label.getKey()))) {
          return false;
        }
      }
    }
    return true;
  }

  private static Filter tcpProxy(
      MeshSnapshot snapshot,
      String statPrefix,
      List<RouteDestination> destinations,
      String namespace,
      int port,
      HttpRoutes names) {
    return tcpProxy(snapshot, statPrefix, false, destinations, namespace, port, names);
  }

  /**
   * A TCP proxy to {@code destinations} (weighted when more than one has weight); a destination
   * without a port goes to its service's only port, else to {@code port}, as istiod routes. With
   * {@code clusterStatPrefix}, a proxy to one cluster is named after it (istiod's gateways).
   */
  public static Filter tcpProxy(
      MeshSnapshot snapshot,
      String statPrefix,
      boolean clusterStatPrefix,
      List<RouteDestination> destinations,
      String namespace,
      int port,
      HttpRoutes names) {
    List<TcpProxy.WeightedCluster.ClusterWeight> weighted = new ArrayList<>();
    for (RouteDestination destination : destinations) {
      String host = names.qualify(destination.getDestination().getHost(), namespace);
      int destinationPort =
          destination.getDestination().getPort() != null
                  && destination.getDestination().getPort().getNumber() != null
              ? destination.getDestination().getPort().getNumber().intValue()
              : snapshot
                  .service(host)
                  .filter(service -> service.ports().size() == 1)
                  .map(service -> service.ports().get(0).port())
                  .orElse(port);
      int weight =
          destination.getWeight() == null
              ? (destinations.size() == 1 ? 100 : 0)
              : destination.getWeight();
      if (weight > 0 || destinations.size() == 1) {
        weighted.add(
            TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                .setName(
                    EnvoyNames.outboundCluster(
                        destinationPort, destination.getDestination().getSubset(), host))
                .setWeight(Math.max(weight, 1))
                .build());
      }
    }
    if (weighted.size() == 1) {
      String cluster = weighted.get(0).getName();
      return EnvoyFilters.tcpProxy(clusterStatPrefix ? cluster : statPrefix, cluster);
    }
    return Filter.newBuilder()
        .setName("envoy.filters.network.tcp_proxy")
        .setTypedConfig(
            Any.pack(
                TcpProxy.newBuilder()
                    .setStatPrefix(statPrefix)
                    .setWeightedClusters(
                        TcpProxy.WeightedCluster.newBuilder().addAllClusters(weighted))
                    .build()))
        .build();
  }
}
