package dev.bosun.controlplane.xds.gateway;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.gateway.GatewayServers.GatewayServer;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.sidecar.TcpRoutes;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.fabric8.istio.api.api.networking.v1alpha3.L4MatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSmode;
import io.fabric8.istio.api.api.networking.v1alpha3.TCPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSMatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The filter chains of gateway servers that forward TCP, from the {@code tcp} and {@code tls}
 * routes of the VirtualServices bound to their Gateway, as istiod builds them: a {@code
 * PASSTHROUGH} server gets a chain per TLS route match, selected by the SNI the client sends and
 * forwarded without terminating TLS; a {@code TCP} server one chain, from the first TCP route that
 * applies; a {@code TLS} server that terminates ({@code SIMPLE}, {@code MUTUAL}, {@code
 * ISTIO_MUTUAL}) one chain matched on its hosts, with its certificate, from the TCP routes.
 */
final class GatewayTcpChains {
  private final HttpRoutes names;

  GatewayTcpChains(HttpRoutes names) {
    this.names = names;
  }

  /** The chains of one server, and whether they need the TLS inspector. */
  record Chains(List<FilterChain> chains, boolean sni) {}

  Chains chains(
      MeshSnapshot snapshot,
      ProxyView proxy,
      GatewayServer server,
      Set<String> knownSni,
      Warnings warnings) {
    if (server.tls() != null
        && server.tls().getMode() == ServerTLSSettingsTLSmode.AUTO_PASSTHROUGH) {
      return new Chains(autoPassthrough(snapshot, proxy, server, knownSni), true);
    }
    List<ConfigEntry> bound = List.copyOf(GatewayRoutes.bound(snapshot, proxy, server).keySet());
    if (server.passthrough()) {
      return new Chains(passthrough(snapshot, server, bound, knownSni, warnings), true);
    }
    Optional<FilterChain.Builder> chain = tcp(snapshot, server, bound);
    if (chain.isEmpty()) {
      warnings.add(
          "{}: no VirtualService bound to {} has a tcp route for port {}; server left out",
          server.where(),
          server.gatewayName(),
          server.spec().getPort().getNumber());
      return new Chains(List.of(), false);
    }
    if (server.tls() == null) {
      return new Chains(List.of(chain.get().build()), false);
    }
    Optional<DownstreamTlsContext> tls = GatewayTls.downstream(server, warnings);
    if (tls.isEmpty()) {
      return new Chains(List.of(), false);
    }
    chain.get().setTransportSocket(EnvoyTlsBuilder.tlsSocket(tls.get()));
    List<String> sni = server.sniHosts();
    if (!sni.contains("*")) {
      chain.get().setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(sni));
    }
    return new Chains(List.of(chain.get().build()), true);
  }

  private List<FilterChain> passthrough(
      MeshSnapshot snapshot,
      GatewayServer server,
      List<ConfigEntry> bound,
      Set<String> knownSni,
      Warnings warnings) {
    int port = server.spec().getPort().getNumber().intValue();
    List<FilterChain> chains = new ArrayList<>();
    for (ConfigEntry entry : bound) {
      List<TLSRoute> routes = entry.spec(VirtualService.class).getTls();
      if (routes == null) {
        continue;
      }
      for (int i = 0; i < routes.size(); i++) {
        TLSRoute route = routes.get(i);
        if (route.getRoute() == null || route.getRoute().isEmpty()) {
          continue;
        }
        for (TLSMatchAttributes match : orEmpty(route.getMatch())) {
          if (!applies(match.getPort(), match.getGateways(), entry, server, port)) {
            continue;
          }
          List<String> sni = new ArrayList<>(new java.util.TreeSet<>(orEmpty(match.getSniHosts())));
          List<String> duplicates = sni.stream().filter(knownSni::contains).toList();
          if (!duplicates.isEmpty()) {
            warnings.add(
                "{} spec.tls[{}]: SNI hosts {} are already routed on port {} of this gateway;"
                    + " match left out",
                entry.key(),
                i,
                duplicates,
                server.listenerPort());
            continue;
          }
          knownSni.addAll(sni);
          FilterChain.Builder chain = forward(snapshot, route.getRoute(), entry, port);
          if (!sni.contains("*")) {
            chain.setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(sni));
          }
          chains.add(chain.build());
        }
      }
    }
    if (chains.isEmpty()) {
      warnings.add(
          "{}: no VirtualService bound to {} has a tls route for port {} and its hosts; server"
              + " left out",
          server.where(),
          server.gatewayName(),
          port);
    }
    return chains;
  }

  /** What a mesh client offers in ALPN when it sends mTLS through an east-west gateway. */
  private static final List<String> MESH_ALPN =
      List.of("istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2");

  /**
   * {@code AUTO_PASSTHROUGH}: a chain per port (and DestinationRule subset) of each service the
   * gateway sees whose host a server host covers, selected by the SNI mesh clients send for it
   * ({@code outbound_.<port>_.<subset>_.<host>}) and forwarded, still encrypted, to the SNI-DNAT
   * cluster of that name; no VirtualService is involved.
   */
  private static List<FilterChain> autoPassthrough(
      MeshSnapshot snapshot, ProxyView proxy, GatewayServer server, Set<String> knownSni) {
    List<FilterChain> chains = new ArrayList<>();
    for (var service :
        dev.bosun.controlplane.xds.scope.SidecarScope.of(snapshot, proxy, Optional.empty())
            .services()) {
      // Only services with SNI-DNAT clusters (EDS, inside the mesh), as GatewayClusters builds.
      if (service.meshExternal()
          || service.resolution() != dev.bosun.controlplane.model.MeshService.Resolution.STATIC
          || server.hosts().stream()
              .noneMatch(
                  h -> GatewayRoutes.subsetOf(service.hostname(), GatewayServers.hostPart(h)))) {
        continue;
      }
      List<String> subsets = new ArrayList<>();
      subsets.add("");
      // The subsets of the DestinationRule this gateway uses for the host, as its clusters have.
      snapshot
          .config()
          .destinationRule(service.hostname(), proxy.namespace(), service.namespace())
          .map(e -> e.spec(io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule.class))
          .filter(rule -> rule.getSubsets() != null)
          .ifPresent(rule -> rule.getSubsets().forEach(subset -> subsets.add(subset.getName())));
      for (var port : service.ports()) {
        if (port.protocol() == dev.bosun.controlplane.model.Protocol.UDP) {
          continue;
        }
        for (String subset : subsets) {
          String sni =
              dev.bosun.controlplane.xds.envoy.EnvoyNames.outboundSni(
                  new dev.bosun.controlplane.xds.envoy.EnvoyNames.OutboundCluster(
                      port.port(), subset, service.hostname()));
          if (!knownSni.add(sni)) {
            continue;
          }
          chains.add(
              FilterChain.newBuilder()
                  .setFilterChainMatch(
                      FilterChainMatch.newBuilder()
                          .addServerNames(sni)
                          .addAllApplicationProtocols(MESH_ALPN))
                  .addFilters(dev.bosun.controlplane.xds.envoy.EnvoyFilters.tcpProxy(sni, sni))
                  .build());
        }
      }
    }
    return chains;
  }

  /** The chain of the first TCP route of the bound VirtualServices that applies to the server. */
  private Optional<FilterChain.Builder> tcp(
      MeshSnapshot snapshot, GatewayServer server, List<ConfigEntry> bound) {
    int port = server.spec().getPort().getNumber().intValue();
    for (ConfigEntry entry : bound) {
      for (TCPRoute route : orEmpty(entry.spec(VirtualService.class).getTcp())) {
        if (route.getRoute() == null || route.getRoute().isEmpty()) {
          continue;
        }
        boolean applies =
            route.getMatch() == null
                || route.getMatch().isEmpty()
                || route.getMatch().stream()
                    .anyMatch(
                        (L4MatchAttributes m) ->
                            applies(m.getPort(), m.getGateways(), entry, server, port));
        if (applies) {
          return Optional.of(forward(snapshot, route.getRoute(), entry, port));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * A chain forwarding to {@code destinations} with a TCP proxy named as istiod names a gateway's:
   * after its cluster, or {@code <VirtualService>.<namespace>} when weighted.
   */
  private FilterChain.Builder forward(
      MeshSnapshot snapshot,
      List<io.fabric8.istio.api.api.networking.v1alpha3.RouteDestination> destinations,
      ConfigEntry entry,
      int port) {
    return FilterChain.newBuilder()
        .addFilters(
            TcpRoutes.tcpProxy(
                snapshot,
                entry.key().name() + "." + entry.key().namespace(),
                true,
                destinations,
                entry.key().namespace(),
                port,
                names));
  }

  /** istiod's L4 match on a gateway: the server's port (or none) and its Gateway (or none). */
  private static boolean applies(
      Long matchPort, List<String> gateways, ConfigEntry entry, GatewayServer server, int port) {
    if (matchPort != null && matchPort != 0 && matchPort != port) {
      return false;
    }
    if (gateways == null || gateways.isEmpty()) {
      return true;
    }
    return gateways.stream()
        .map(g -> dev.bosun.controlplane.model.GatewayName.resolve(g, entry.key().namespace()))
        .anyMatch(server.gatewayName()::equals);
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
