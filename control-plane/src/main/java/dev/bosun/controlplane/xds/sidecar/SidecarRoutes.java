package dev.bosun.controlplane.xds.sidecar;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Message;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.CarriedRoutes;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.OutboundKey;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.SidecarScope;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sidecar RDS: route configurations {@code <port>}, a virtual host per service of the proxy's scope
 * on that port (routes from its VirtualService, else a default route), plus a fallback.
 */
public final class SidecarRoutes implements TypeGenerator {
  private final HttpRoutes routes;

  public SidecarRoutes(String domainSuffix) {
    this.routes = new HttpRoutes(domainSuffix, true);
  }

  @Override
  public String typeUrl() {
    return XdsTypes.ROUTE;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return routes(snapshot, proxy, names);
  }

  /**
   * Routes read services, the VirtualServices of hosts in scope, the DestinationRules of the hosts
   * they route to (hash policies) and the proxy's Sidecar; not endpoints or workload policies.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.appliesIn(IstioKind.SIDECAR, proxy.namespace())
        || change.sidecarSees(proxy, change.virtualServiceHosts())
        || change.sidecarSees(proxy, change.destinationRuleRouteHosts());
  }

  /**
   * Route configurations {@code <port>}: a virtual host per service on that port, plus a fallback.
   */
  public Generated routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    OutboundKey key = OutboundKey.of(snapshot, proxy);
    // Proxies of one scope asking for the same names get the same map, which the xDS server
    // encodes once and shares between their streams.
    Warnings warnings = new Warnings();
    Map<String, Message> configs =
        warnings.derived(
            snapshot,
            List.of("rds-names", routes.domainSuffix(), key, names),
            own -> java.util.Collections.unmodifiableMap(routes(snapshot, proxy, key, names, own)));
    return Generated.of(configs, warnings);
  }

  private Map<String, Message> routes(
      MeshSnapshot snapshot,
      ProxyView proxy,
      OutboundKey key,
      Set<String> names,
      Warnings warnings) {
    Map<String, Message> configs = new TreeMap<>();
    for (String name : names) {
      Optional<Message> config =
          warnings.derived(
              snapshot,
              List.of("rds", routes.domainSuffix(), key, name),
              own -> routeConfiguration(snapshot, proxy, key, name, own));
      config.ifPresent(c -> configs.put(name, c));
    }
    return configs;
  }

  /**
   * The route configuration {@code <port>}, shared by every proxy of one {@link OutboundKey}. Its
   * virtual hosts are carried from snapshot to snapshot ({@link CarriedRoutes}) while no change
   * touches their host.
   */
  private Optional<Message> routeConfiguration(
      MeshSnapshot snapshot, ProxyView proxy, OutboundKey key, String name, Warnings warnings) {
    SidecarScope scope = SidecarScope.of(snapshot, proxy);
    int port;
    try {
      port = Integer.parseInt(name);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    // Envoy refuses a route configuration whose direct responses exceed 4 KiB unless told
    // otherwise; istiod allows 1 MiB (what validation accepts).
    RouteConfiguration.Builder config =
        RouteConfiguration.newBuilder()
            .setName(name)
            .setValidateClusters(BoolValue.of(false))
            .setMaxDirectResponseBodySizeBytes(
                com.google.protobuf.UInt32Value.of(HttpRoutes.MAX_DIRECT_RESPONSE_BODY_BYTES));
    CarriedRoutes.Pieces pieces = CarriedRoutes.of(snapshot, List.of(routes.domainSuffix(), key));
    for (MeshService service : scope.services()) {
      if (service.port(port).filter(p -> p.protocol().isHttp()).isEmpty()) {
        continue;
      }
      VirtualHost host =
          warnings.carried(
              pieces,
              service.hostname(),
              port,
              own -> virtualHost(snapshot, proxy, service, port, own));
      config.addVirtualHosts(host);
    }
    String fallback =
        scope.registryOnly() ? SidecarClusters.BLACKHOLE : SidecarClusters.PASSTHROUGH;
    config.addVirtualHosts(
        VirtualHost.newBuilder()
            .setName(scope.registryOnly() ? "block_all" : "allow_any")
            .addDomains("*")
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                    .setRoute(RouteAction.newBuilder().setCluster(fallback))));
    return Optional.of(config.build());
  }

  /**
   * The virtual host of {@code service} on {@code port}: it reads the service, its VirtualService
   * and the DestinationRules of where it routes, as {@link CarriedRoutes} requires.
   */
  private VirtualHost virtualHost(
      MeshSnapshot snapshot, ProxyView proxy, MeshService service, int port, Warnings warnings) {
    return CarriedRoutes.shared(
        VirtualHost.newBuilder()
            .setName(service.hostname() + ":" + port)
            .addAllDomains(domains(service, port, proxy))
            .addAllRoutes(routes.routes(snapshot, proxy, service, port, warnings))
            .build());
  }

  /** The names a client may use for a service: FQDN, and short forms from its own namespace. */
  private static List<String> domains(MeshService service, int port, ProxyView proxy) {
    Set<String> names = new LinkedHashSet<>();
    names.add(service.hostname());
    if (service.origin() == MeshService.Origin.KUBERNETES) {
      names.add(service.name() + "." + service.namespace());
      names.add(service.name() + "." + service.namespace() + ".svc");
      if (service.namespace().equals(proxy.namespace())) {
        names.add(service.name());
      }
    }
    names.addAll(service.addresses());
    List<String> domains = new ArrayList<>();
    for (String name : names) {
      domains.add(name);
      domains.add(name + ":" + port);
    }
    return domains;
  }
}
