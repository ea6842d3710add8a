package dev.bosun.controlplane.xds.proxyless;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.OutboundKey;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Proxyless RDS: one route configuration per dialled {@code host:port}, with one virtual host. */
public final class ProxylessRoutes implements TypeGenerator {
  private final String domainSuffix;
  private final ProxylessTargets targets;
  private final HttpRoutes routeBuilder;

  public ProxylessRoutes(String domainSuffix) {
    this.domainSuffix = domainSuffix;
    this.targets = new ProxylessTargets(domainSuffix);
    this.routeBuilder = new HttpRoutes(domainSuffix);
  }

  @Override
  public String typeUrl() {
    return XdsTypes.ROUTE;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return routes(snapshot, proxy, names);
  }

  /** Routes read services, VirtualServices and DestinationRules (hash policies). */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.touches(IstioKind.VIRTUAL_SERVICE)
        || change.touches(IstioKind.DESTINATION_RULE);
  }

  /**
   * Route configurations named as dialled. One depends on the client's namespace and, where a
   * VirtualService matches on source labels, its labels: it is built once per those and snapshot.
   */
  public Generated routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Warnings warnings = new Warnings();
    Map<String, Message> routes = new TreeMap<>();
    Map<String, String> labels = OutboundKey.usesSourceLabels(snapshot) ? proxy.labels() : Map.of();
    for (String name : names) {
      warnings
          .derived(
              snapshot,
              List.of("grpc-rds", domainSuffix, proxy.namespace(), labels, name),
              own -> routeConfiguration(snapshot, proxy, name, own))
          .ifPresent(route -> routes.put(name, route));
    }
    return Generated.of(routes, warnings);
  }

  private Optional<Message> routeConfiguration(
      MeshSnapshot snapshot, ProxyView proxy, String name, Warnings warnings) {
    Optional<ProxylessTargets.Target> target = targets.resolve(snapshot, proxy, name);
    if (target.isEmpty()) {
      return Optional.empty();
    }
    VirtualHost.Builder host =
        VirtualHost.newBuilder()
            .setName(target.get().service().hostname() + ":" + target.get().port().port())
            .addDomains(name);
    for (Route route :
        routeBuilder.routes(
            snapshot, proxy, target.get().service(), target.get().port().port(), warnings)) {
      host.addRoutes(route);
    }
    return Optional.of(RouteConfiguration.newBuilder().setName(name).addVirtualHosts(host).build());
  }
}
