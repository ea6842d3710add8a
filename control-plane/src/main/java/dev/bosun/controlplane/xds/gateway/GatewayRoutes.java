package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Message;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.gateway.GatewayServers.GatewayServer;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gateway RDS: route configuration {@code http.<port>} for the plain HTTP servers on a port, and
 * {@code https.<port>.<portName>.<gateway>.<namespace>} for one terminated HTTPS server. Virtual
 * hosts {@code <host>:<server port>} come from the VirtualServices bound to the servers' Gateways
 * and exported to the gateway's namespace, one per host a server and a VirtualService have in
 * common (the more specific of the two); a server with {@code httpsRedirect} makes its hosts
 * require TLS; with no virtual host at all, {@code blackhole:<port>} answers 404.
 */
public final class GatewayRoutes implements TypeGenerator {
  private final HttpRoutes routes;

  public GatewayRoutes(String domainSuffix) {
    this.routes = new HttpRoutes(domainSuffix, true);
  }

  @Override
  public String typeUrl() {
    return XdsTypes.ROUTE;
  }

  /**
   * Gateway routes read Gateways and services (every such change concerns everyone), the
   * VirtualServices bound to gateways and the DestinationRules of where they route (hash policies).
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.touches(IstioKind.VIRTUAL_SERVICE)
        || change.touches(IstioKind.DESTINATION_RULE)
        || change.serviceTargetsChanged(proxy);
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    GatewayServers servers = GatewayServers.of(snapshot, proxy);
    Warnings warnings = new Warnings();
    Map<String, Message> configs = new TreeMap<>();
    for (String name : names.isEmpty() ? servers.routeNames() : names) {
      // Proxies with the same merged servers and labels get the same configuration.
      RouteConfiguration config =
          warnings.derived(
              snapshot,
              List.of("gateway-rds", routes.domainSuffix(), servers, proxy.labels(), name),
              own -> routeConfiguration(snapshot, proxy, servers, name, own));
      configs.put(name, config);
    }
    return Generated.of(configs, warnings);
  }

  private RouteConfiguration routeConfiguration(
      MeshSnapshot snapshot,
      ProxyView proxy,
      GatewayServers merged,
      String name,
      Warnings warnings) {
    RouteConfiguration.Builder config =
        RouteConfiguration.newBuilder().setName(name).setValidateClusters(BoolValue.of(false));
    List<GatewayServer> servers = merged.routeServers(name);
    if (servers.isEmpty()) {
      // A route name no server has (its Gateway was just deleted): an empty configuration.
      return config.build();
    }
    Map<String, VirtualHost.Builder> hosts = new LinkedHashMap<>();
    Map<List<Object>, List<Route>> built = new HashMap<>();
    for (GatewayServer server : servers) {
      int port = server.spec().getPort().getNumber().intValue();
      boolean redirect =
          server.tls() != null && Boolean.TRUE.equals(server.tls().getHttpsRedirect());
      for (Map.Entry<ConfigEntry, List<String>> bound : bound(snapshot, proxy, server).entrySet()) {
        ConfigEntry virtualService = bound.getKey();
        List<String> common = bound.getValue();
        List<Route> vsRoutes =
            built.computeIfAbsent(
                List.of(server.gatewayName(), virtualService.key(), port),
                k ->
                    routes.routes(
                        snapshot,
                        proxy,
                        virtualService,
                        port,
                        Set.of(server.gatewayName()),
                        warnings));
        for (String host : common) {
          String lower = host.toLowerCase(Locale.ROOT);
          VirtualHost.Builder virtualHost = hosts.computeIfAbsent(lower, h -> virtualHost(h, port));
          virtualHost.addAllRoutes(vsRoutes);
          if (redirect) {
            virtualHost.setRequireTls(VirtualHost.TlsRequirementType.ALL);
          }
        }
      }
      if (redirect) {
        // Every host of the server redirects, bound or not (istiod keeps a namespace-qualified
        // host's "ns/" in the domain; Bosun uses the host, which is what clients send).
        for (String host : server.hosts()) {
          String lower = GatewayServers.hostPart(host).toLowerCase(Locale.ROOT);
          hosts
              .computeIfAbsent(lower, h -> virtualHost(h, port))
              .setRequireTls(VirtualHost.TlsRequirementType.ALL);
        }
      }
    }
    config.setIgnorePortInHostMatching(true);
    config.setMaxDirectResponseBodySizeBytes(
        com.google.protobuf.UInt32Value.of(HttpRoutes.MAX_DIRECT_RESPONSE_BODY_BYTES));
    if (hosts.isEmpty()) {
      int port = servers.get(0).spec().getPort().getNumber().intValue();
      return config
          .addVirtualHosts(VirtualHost.newBuilder().setName("blackhole:" + port).addDomains("*"))
          .build();
    }
    Map<String, VirtualHost> sorted = new TreeMap<>();
    for (VirtualHost.Builder host : hosts.values()) {
      List<Route> ordered = catchAllLast(host.getRoutesList());
      sorted.put(host.getName(), host.clearRoutes().addAllRoutes(ordered).build());
    }
    return config.addAllVirtualHosts(sorted.values()).build();
  }

  private static VirtualHost.Builder virtualHost(String host, int port) {
    return VirtualHost.newBuilder()
        .setName(host + ":" + port)
        .addDomains(host)
        .setIncludeRequestAttemptCount(true);
  }

  /**
   * The VirtualServices bound to the server's Gateway and exported to the gateway's namespace that
   * share a host with the server, each with the hosts they share (the more specific of each pair),
   * in precedence order.
   */
  static Map<ConfigEntry, List<String>> bound(
      MeshSnapshot snapshot, ProxyView proxy, GatewayServer server) {
    Map<ConfigEntry, List<String>> bound = new LinkedHashMap<>();
    for (ConfigEntry entry :
        snapshot
            .config()
            .virtualServicesForGateway(
                server.gateway().key().namespace(),
                server.gateway().key().name(),
                proxy.namespace())) {
      List<String> common =
          intersection(
              forNamespace(server.hosts(), entry.key().namespace()),
              snapshot.config().hosts(entry));
      if (!common.isEmpty()) {
        bound.put(entry, common);
      }
    }
    return bound;
  }

  /**
   * Routes in their order, except that those matching every request move behind the rest, as istiod
   * orders the routes several VirtualServices contribute to one host.
   */
  static List<Route> catchAllLast(List<Route> routes) {
    List<Route> specific = new ArrayList<>();
    List<Route> catchAll = new ArrayList<>();
    for (Route route : routes) {
      (matchesEverything(route.getMatch()) ? catchAll : specific).add(route);
    }
    specific.addAll(catchAll);
    return specific;
  }

  private static boolean matchesEverything(RouteMatch match) {
    boolean anyPath =
        (match.hasPrefix() && (match.getPrefix().isEmpty() || match.getPrefix().equals("/")))
            || (match.hasSafeRegex() && match.getSafeRegex().getRegex().equals(".*"));
    return anyPath
        && match.getHeadersCount() == 0
        && match.getQueryParametersCount() == 0
        && !match.hasRuntimeFraction();
  }

  /**
   * The server hosts that apply to VirtualServices of {@code namespace}: those without a namespace,
   * and {@code ns/host} where ns is that namespace or {@code *}.
   */
  static List<String> forNamespace(List<String> hosts, String namespace) {
    List<String> applying = new ArrayList<>();
    for (String host : hosts) {
      int slash = host.indexOf('/');
      if (slash < 0) {
        applying.add(host);
      } else {
        String ns = host.substring(0, slash);
        if (ns.equals(namespace) || ns.equals("*")) {
          applying.add(host.substring(slash + 1));
        }
      }
    }
    return applying;
  }

  /** The hosts two lists have in common, each the more specific of a matching pair. */
  static List<String> intersection(List<String> serverHosts, List<String> virtualServiceHosts) {
    List<String> common = new ArrayList<>();
    for (String server : serverHosts) {
      for (String virtualService : virtualServiceHosts) {
        String winner =
            subsetOf(server, virtualService)
                ? server
                : subsetOf(virtualService, server) ? virtualService : null;
        if (winner != null && !common.contains(winner)) {
          common.add(winner);
        }
      }
    }
    return common;
  }

  /** Whether every host {@code a} names is one {@code b} names. */
  static boolean subsetOf(String a, String b) {
    if (b.equals("*") || a.equals(b)) {
      return true;
    }
    if (!b.startsWith("*.")) {
      return false;
    }
    String suffix = b.substring(1);
    return a.startsWith("*.") ? a.substring(1).endsWith(suffix) : a.endsWith(suffix);
  }
}
