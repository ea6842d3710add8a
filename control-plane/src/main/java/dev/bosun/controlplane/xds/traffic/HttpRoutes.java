package dev.bosun.controlplane.xds.traffic;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyClusterSettings;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyRouteActions;
import dev.bosun.controlplane.xds.envoy.ProtoDurations;
import dev.bosun.controlplane.xds.policy.ClusterPolicies;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.Warnings;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPFaultInjection;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMatchRequest;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchPrefix;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchRegex;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A VirtualService's HTTP routes as Envoy routes. For Envoy sidecars every route action applies:
 * forwarding to weighted subsets, redirects, direct responses, rewrites, header manipulation,
 * mirrors, timeouts, retries and faults. For proxyless gRPC clients only what grpc-xds implements
 * is sent (matches, weighted subsets, timeouts, retries, faults); the rest is left out and
 * reported, never sent.
 */
public final class HttpRoutes {
  /** Envoy's field constraints, checked per route so that one bad route costs only itself. */
  private static final dev.bosun.xds.EnvoyValidator ENVOY = dev.bosun.xds.EnvoyValidator.shared();

  /** The largest direct-response body a route configuration may carry: istiod's 1 MiB. */
  public static final int MAX_DIRECT_RESPONSE_BODY_BYTES = 1 << 20;

  private static final Set<String> MESH = Set.of(dev.bosun.controlplane.model.GatewayName.MESH);

  private final String domainSuffix;
  private final boolean envoy;

  public HttpRoutes(String domainSuffix) {
    this(domainSuffix, false);
  }

  public HttpRoutes(String domainSuffix, boolean envoy) {
    this.domainSuffix = domainSuffix;
    this.envoy = envoy;
  }

  /** The cluster domain suffix short host names are qualified with. */
  public String domainSuffix() {
    return domainSuffix;
  }

  /**
   * The routes for one service port: from its VirtualService, else the default route. What cannot
   * be sent as written is left out and reported to {@code warnings}.
   */
  public List<Route> routes(
      MeshSnapshot snapshot, ProxyView proxy, MeshService service, int port, Warnings warnings) {
    Optional<ConfigEntry> entry =
        snapshot.config().virtualService(service.hostname(), proxy.namespace());
    if (entry.isEmpty()) {
      return List.of(withHashPolicy(snapshot, proxy, defaultRoute(service.hostname(), port)));
    }
    return routes(snapshot, proxy, entry.get(), port, MESH, warnings);
  }

  /**
   * The routes of one VirtualService for a listener on {@code port} of a proxy that is {@code
   * gateways} (qualified {@code namespace/name}, or {@code mesh} for sidecars): a match that names
   * gateways applies only on those. What cannot be sent as written is left out and reported.
   */
  public List<Route> routes(
      MeshSnapshot snapshot,
      ProxyView proxy,
      ConfigEntry entry,
      int port,
      Set<String> gateways,
      Warnings warnings) {
    VirtualService spec = entry.spec(VirtualService.class);
    List<Route> routes = new ArrayList<>();
    List<HTTPRoute> http = spec.getHttp() == null ? List.of() : spec.getHttp();
    for (int i = 0; i < http.size(); i++) {
      HTTPRoute route = http.get(i);
      String where = entry.key() + " spec.http[" + i + "]";
      Optional<Route.Builder> template =
          template(snapshot, route, entry, port, where, proxy, warnings);
      if (template.isEmpty()) {
        continue;
      }
      List<HTTPMatchRequest> matches =
          route.getMatch() == null || route.getMatch().isEmpty()
              ? List.of(new HTTPMatchRequest())
              : route.getMatch();
      for (HTTPMatchRequest match : matches) {
        if (!appliesTo(match, entry.key().namespace(), gateways, proxy)) {
          continue;
        }
        Optional<RouteMatch> routeMatch = match(match, proxy, port, where, warnings);
        if (routeMatch.isEmpty()) {
          continue;
        }
        Route built =
            withHashPolicy(
                snapshot, proxy, template.get().clone().setMatch(routeMatch.get()).build());
        Optional<String> refused = ENVOY.check(built);
        if (refused.isPresent()) {
          // Envoy would refuse the whole route configuration, and with it every other service's
          // routes on the port: this route alone is left out.
          warnings.add(
              "{}: left out: Envoy would refuse the route ({}); the other routes still apply",
              where,
              refused.get());
          continue;
        }
        routes.add(built);
      }
    }
    return routes;
  }

  /**
   * Istio's source match: a match naming gateways applies on those alone (short names are in the
   * VirtualService's namespace); otherwise it applies where the source labels and namespace allow.
   */
  private static boolean appliesTo(
      HTTPMatchRequest match, String namespace, Set<String> gateways, ProxyView proxy) {
    if (match.getGateways() != null && !match.getGateways().isEmpty()) {
      for (String gateway : match.getGateways()) {
        if (gateways.contains(
            dev.bosun.controlplane.model.GatewayName.resolve(gateway, namespace))) {
          return true;
        }
      }
      return false;
    }
    if (match.getSourceLabels() != null) {
      for (Map.Entry<String, String> label : match.getSourceLabels().entrySet()) {
        if (!label.getValue().equals(proxy.labels().get(label.getKey()))) {
          return false;
        }
      }
    }
    return match.getSourceNamespace() == null
        || match.getSourceNamespace().equals(proxy.namespace());
  }

  /** Everything of a route but its match, or empty when the route cannot be sent. */
  private Optional<Route.Builder> template(
      MeshSnapshot snapshot,
      HTTPRoute route,
      ConfigEntry entry,
      int port,
      String where,
      ProxyView proxy,
      Warnings warnings) {
    if (route.getDelegate() != null) {
      warnings.add("{}: delegate VirtualServices are not supported yet; route left out", where);
      return Optional.empty();
    }
    Route.Builder built = Route.newBuilder();
    if (route.getName() != null) {
      built.setName(route.getName());
    }
    if (route.getRedirect() != null || route.getDirectResponse() != null) {
      if (!envoy) {
        warnings.add(
            "{}: redirect and directResponse are not supported by proxyless gRPC clients; route"
                + " left out for them",
            where);
        return Optional.empty();
      }
      if (route.getRedirect() != null) {
        built.setRedirect(EnvoyRouteActions.redirect(route.getRedirect()));
      } else {
        built.setDirectResponse(EnvoyRouteActions.directResponse(route.getDirectResponse()));
      }
    } else if (route.getRoute() != null && !route.getRoute().isEmpty()) {
      Optional<RouteAction.Builder> action =
          action(snapshot, route, entry, port, where, proxy, warnings);
      if (action.isEmpty()) {
        return Optional.empty();
      }
      if (envoy) {
        EnvoyRouteActions.rewrite(route.getRewrite(), action.get());
        EnvoyRouteActions.mirrors(
            route, entry.key().namespace(), port, this::qualify, action.get());
      }
      built.setRoute(action.get());
    } else {
      return Optional.empty();
    }
    if (envoy) {
      EnvoyRouteActions.headers(route.getHeaders(), built);
      if (route.getCorsPolicy() != null) {
        built.putTypedPerFilterConfig(
            EnvoyRouteActions.CORS_FILTER, Any.pack(EnvoyRouteActions.cors(route.getCorsPolicy())));
      }
    }
    fault(route.getFault())
        .ifPresent(
            fault -> built.putTypedPerFilterConfig(EnvoyFilters.FAULT_FILTER, Any.pack(fault)));
    return Optional.of(built);
  }

  /** A route to a ring-hash cluster carries the DestinationRule's hash key. */
  Route withHashPolicy(MeshSnapshot snapshot, ProxyView proxy, Route route) {
    String cluster =
        route.getRoute().hasWeightedClusters()
            ? route.getRoute().getWeightedClusters().getClusters(0).getName()
            : route.getRoute().getCluster();
    Optional<EnvoyNames.OutboundCluster> parsed = EnvoyNames.parseOutboundCluster(cluster);
    if (parsed.isEmpty()) {
      return route;
    }
    String namespace =
        snapshot.service(parsed.get().host()).map(MeshService::namespace).orElse(proxy.namespace());
    return ClusterPolicies.policy(snapshot, proxy, parsed.get(), namespace)
        .flatMap(
            policy ->
                ClusterPolicies.hashPolicy(policy.traffic())
                    .or(
                        () ->
                            envoy
                                ? EnvoyClusterSettings.hashPolicy(policy.traffic())
                                : Optional.empty()))
        .map(
            hash ->
                route.toBuilder()
                    .setRoute(route.getRoute().toBuilder().addHashPolicy(hash))
                    .build())
        .orElse(route);
  }

  static Route defaultRoute(String host, int port) {
    return Route.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix(""))
        .setRoute(RouteAction.newBuilder().setCluster(EnvoyNames.outboundCluster(port, "", host)))
        .build();
  }

  /** A match for this proxy, or empty when the match cannot apply to it (other port or source). */
  private Optional<RouteMatch> match(
      HTTPMatchRequest match, ProxyView proxy, int port, String where, Warnings warnings) {
    if (match.getPort() != null && match.getPort() != port) {
      return Optional.empty();
    }
    RouteMatch.Builder built = RouteMatch.newBuilder();
    boolean caseSensitive = !Boolean.TRUE.equals(match.getIgnoreUriCase());
    StringMatch uri = match.getUri();
    if (uri == null || uri.getMatchType() == null) {
      built.setPrefix("");
    } else if (uri.getMatchType() instanceof StringMatchExact exact) {
      built.setPath(exact.getExact());
    } else if (uri.getMatchType() instanceof StringMatchPrefix prefix) {
      built.setPrefix(prefix.getPrefix());
    } else if (uri.getMatchType() instanceof StringMatchRegex regex) {
      built.setSafeRegex(RegexMatcher.newBuilder().setRegex(regex.getRegex()));
    }
    if (!caseSensitive) {
      built.setCaseSensitive(com.google.protobuf.BoolValue.of(false));
    }
    header(":method", match.getMethod(), false).ifPresent(built::addHeaders);
    header(":authority", match.getAuthority(), false).ifPresent(built::addHeaders);
    header(":scheme", match.getScheme(), false).ifPresent(built::addHeaders);
    if (match.getHeaders() != null) {
      match
          .getHeaders()
          .forEach((name, value) -> header(name, value, false).ifPresent(built::addHeaders));
    }
    if (match.getWithoutHeaders() != null) {
      match
          .getWithoutHeaders()
          .forEach((name, value) -> header(name, value, true).ifPresent(built::addHeaders));
    }
    if (match.getQueryParams() != null && !match.getQueryParams().isEmpty()) {
      if (!envoy) {
        // grpc-xds ignores routes with query matchers; dropping the matcher would widen the match.
        warnings.add(
            "{}: queryParams matches are not supported by proxyless gRPC clients; match left out"
                + " for them",
            where);
        return Optional.empty();
      }
      match
          .getQueryParams()
          .forEach(
              (name, value) ->
                  built.addQueryParameters(EnvoyRouteActions.queryParameter(name, value)));
    }
    return Optional.of(built.build());
  }

  /** Istio's header match: an empty match means "present". */
  private static Optional<HeaderMatcher> header(String name, StringMatch match, boolean invert) {
    if (match == null) {
      return Optional.empty();
    }
    HeaderMatcher.Builder header = HeaderMatcher.newBuilder().setName(name).setInvertMatch(invert);
    if (match.getMatchType() instanceof StringMatchExact exact) {
      header.setStringMatch(StringMatcher.newBuilder().setExact(exact.getExact()));
    } else if (match.getMatchType() instanceof StringMatchPrefix prefix) {
      header.setStringMatch(StringMatcher.newBuilder().setPrefix(prefix.getPrefix()));
    } else if (match.getMatchType() instanceof StringMatchRegex regex) {
      header.setStringMatch(
          StringMatcher.newBuilder()
              .setSafeRegex(RegexMatcher.newBuilder().setRegex(regex.getRegex())));
    } else {
      header.setPresentMatch(true);
    }
    return Optional.of(header.build());
  }

  /**
   * Warns, as istiod's analyzer does (IST0101), about a destination that names a host the registry
   * does not have or a subset no DestinationRule this proxy sees defines: the route is sent, and
   * requests it carries fail with 503 (no such cluster is sent).
   */
  private static void referenced(
      MeshSnapshot snapshot,
      ProxyView proxy,
      String host,
      int port,
      HTTPRouteDestination destination,
      String where,
      Warnings warnings) {
    Optional<MeshService> target = snapshot.service(host);
    String subset = destination.getDestination().getSubset();
    if (target.isEmpty()) {
      if (!host.startsWith("*")) {
        warnings.add(
            "{}: IST0101 destination host {} is not in the service registry; requests routed"
                + " to it fail",
            where,
            host);
      }
      return;
    }
    if (subset != null
        && !subset.isEmpty()
        && ClusterPolicies.policy(
                snapshot,
                proxy,
                new EnvoyNames.OutboundCluster(port, subset, host),
                target.get().namespace())
            .isEmpty()) {
      warnings.add(
          "{}: IST0101 subset {} of {} is defined by no DestinationRule this proxy sees; requests"
              + " routed to it fail",
          where,
          subset,
          host);
    }
  }

  private Optional<RouteAction.Builder> action(
      MeshSnapshot snapshot,
      HTTPRoute route,
      ConfigEntry entry,
      int port,
      String where,
      ProxyView proxy,
      Warnings warnings) {
    RouteAction.Builder action = RouteAction.newBuilder();
    List<HTTPRouteDestination> destinations = route.getRoute();
    List<WeightedCluster.ClusterWeight> weighted = new ArrayList<>();
    for (HTTPRouteDestination destination : destinations) {
      String host = qualify(destination.getDestination().getHost(), entry.key().namespace());
      int destinationPort = destinationPort(snapshot, destination, host, port);
      String cluster =
          EnvoyNames.outboundCluster(
              destinationPort, destination.getDestination().getSubset(), host);
      referenced(snapshot, proxy, host, destinationPort, destination, where, warnings);
      int weight =
          destination.getWeight() == null
              ? (destinations.size() == 1 ? 100 : 0)
              : destination.getWeight();
      if (weight > 0 || destinations.size() == 1) {
        WeightedCluster.ClusterWeight.Builder clusterWeight =
            WeightedCluster.ClusterWeight.newBuilder()
                .setName(cluster)
                .setWeight(UInt32Value.of(Math.max(weight, 1)));
        if (envoy) {
          EnvoyRouteActions.destinationHeaders(destination.getHeaders(), clusterWeight);
        }
        weighted.add(clusterWeight.build());
      }
    }
    if (weighted.isEmpty()) {
      warnings.add("{}: every destination has weight 0; route left out", where);
      return Optional.empty();
    }
    WeightedCluster.ClusterWeight only = weighted.get(0);
    boolean plain =
        only.getRequestHeadersToAddCount() == 0
            && only.getRequestHeadersToRemoveCount() == 0
            && only.getResponseHeadersToAddCount() == 0
            && only.getResponseHeadersToRemoveCount() == 0;
    if (weighted.size() == 1 && plain) {
      action.setCluster(only.getName());
    } else {
      action.setWeightedClusters(WeightedCluster.newBuilder().addAllClusters(weighted));
    }
    ProtoDurations.of(route.getTimeout())
        .ifPresent(
            timeout -> {
              action.setTimeout(timeout);
              action.setMaxStreamDuration(
                  RouteAction.MaxStreamDuration.newBuilder().setMaxStreamDuration(timeout));
            });
    if (route.getRetries() != null
        && route.getRetries().getAttempts() != null
        && route.getRetries().getAttempts() > 0) {
      RetryPolicy.Builder retry =
          RetryPolicy.newBuilder()
              .setNumRetries(UInt32Value.of(route.getRetries().getAttempts()))
              .setRetryOn(
                  route.getRetries().getRetryOn() == null
                      ? "unavailable,cancelled,deadline-exceeded,resource-exhausted"
                      : route.getRetries().getRetryOn());
      ProtoDurations.of(route.getRetries().getPerTryTimeout()).ifPresent(retry::setPerTryTimeout);
      if (envoy && Boolean.TRUE.equals(route.getRetries().getRetryRemoteLocalities())) {
        // Retries move to other localities (priorities) instead of hammering the local one.
        retry.setRetryPriority(
            RetryPolicy.RetryPriority.newBuilder()
                .setName("envoy.retry_priorities.previous_priorities")
                .setTypedConfig(
                    Any.pack(
                        io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
                            .PreviousPrioritiesConfig.newBuilder()
                            .setUpdateFrequency(2)
                            .build())));
      }
      action.setRetryPolicy(retry);
    }
    if (!envoy
        && (route.getMirror() != null
            || (route.getMirrors() != null && !route.getMirrors().isEmpty())
            || route.getCorsPolicy() != null
            || route.getHeaders() != null
            || route.getRewrite() != null)) {
      warnings.add(
          "{}: mirror, CORS, rewrite and header manipulation are not supported by proxyless gRPC clients; ignored for them",
          where);
    }
    return Optional.of(action);
  }

  /**
   * The destination's port; without one, the service's only port, else the listener's (istiod's
   * rule, which lets a gateway on port 80 route to a service on 9080 by host alone).
   */
  private static int destinationPort(
      MeshSnapshot snapshot, HTTPRouteDestination destination, String host, int listenerPort) {
    var port = destination.getDestination().getPort();
    if (port != null && port.getNumber() != null) {
      return port.getNumber().intValue();
    }
    return snapshot
        .service(host)
        .filter(service -> service.ports().size() == 1)
        .map(service -> service.ports().get(0).port())
        .orElse(listenerPort);
  }

  private static Optional<HTTPFault> fault(HTTPFaultInjection fault) {
    if (fault == null) {
      return Optional.empty();
    }
    HTTPFault.Builder built = HTTPFault.newBuilder();
    if (fault.getDelay() != null
        && fault.getDelay().getHttpDelayType()
            instanceof
            io.fabric8.istio.api.api.networking.v1alpha3.HTTPFaultInjectionDelayFixedDelay fixed) {
      ProtoDurations.of(fixed.getFixedDelay())
          .ifPresent(
              delay ->
                  built.setDelay(
                      FaultDelay.newBuilder()
                          .setFixedDelay(delay)
                          .setPercentage(percent(fault.getDelay().getPercentage()))));
    }
    if (fault.getAbort() != null) {
      FaultAbort.Builder abort =
          FaultAbort.newBuilder().setPercentage(percent(fault.getAbort().getPercentage()));
      Object type = fault.getAbort().getErrorType();
      if (type
          instanceof
          io.fabric8.istio.api.api.networking.v1alpha3.HTTPFaultInjectionAbortHttpStatus http) {
        abort.setHttpStatus(http.getHttpStatus());
        built.setAbort(abort);
      } else if (type
          instanceof
          io.fabric8.istio.api.api.networking.v1alpha3.HTTPFaultInjectionAbortGrpcStatus grpc) {
        abort.setGrpcStatus(io.grpc.Status.Code.valueOf(grpc.getGrpcStatus()).value());
        built.setAbort(abort);
      }
    }
    return built.hasDelay() || built.hasAbort() ? Optional.of(built.build()) : Optional.empty();
  }

  /** Istio's {@code Percent} (0-100, may be fractional) as parts per million; absent means 100%. */
  private static FractionalPercent percent(
      io.fabric8.istio.api.api.networking.v1alpha3.Percent percent) {
    double value = percent == null || percent.getValue() == null ? 100 : percent.getValue();
    return FractionalPercent.newBuilder()
        .setNumerator((int) Math.round(value * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  /** A short host in a VirtualService means a service in the VirtualService's namespace. */
  public String qualify(String host, String namespace) {
    if (host.contains(".")) {
      return host; // Istio reads any name with a dot as fully qualified
    }
    return host + "." + namespace + ".svc." + domainSuffix;
  }
}
