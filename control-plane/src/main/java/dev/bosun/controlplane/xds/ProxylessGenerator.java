package dev.bosun.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Configuration for proxyless gRPC clients (grpc-xds), a pure function of a snapshot and a proxy:
 * an API listener named exactly as the client dials ({@code host:port}), a route configuration with
 * one virtual host, EDS clusters (mTLS as DestinationRules or auto mTLS say) and their endpoints;
 * and listeners for proxyless gRPC servers (see {@link ProxylessServerListeners}).
 */
public final class ProxylessGenerator {
  private static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  private final String domainSuffix;
  private final String trustDomain;
  private final HttpRoutes routeBuilder;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public ProxylessGenerator(String domainSuffix) {
    this(domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public ProxylessGenerator(String domainSuffix, String trustDomain) {
    this.domainSuffix = domainSuffix;
    this.trustDomain = trustDomain;
    this.routeBuilder = new HttpRoutes(domainSuffix);
  }

  /** A dialled target resolved to a service and port. */
  record Target(String name, MeshService service, ServicePort port) {}

  /**
   * Resolves {@code host:port} as a client in {@code namespace} means it: a short name is in the
   * client's namespace, {@code name.namespace} and {@code name.namespace.svc} get the cluster
   * domain suffix.
   */
  Optional<Target> resolve(MeshSnapshot snapshot, ProxyView proxy, String target) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    String host = target.substring(0, colon);
    for (String candidate : candidates(host, proxy.namespace())) {
      Optional<MeshService> service = snapshot.service(candidate);
      if (service.isPresent() && service.get().visibleFrom(proxy.namespace())) {
        Optional<ServicePort> servicePort = service.get().port(port);
        if (servicePort.isPresent()) {
          return Optional.of(new Target(target, service.get(), servicePort.get()));
        }
      }
    }
    return Optional.empty();
  }

  private List<String> candidates(String host, String namespace) {
    String suffix = ".svc." + domainSuffix;
    long dots = host.chars().filter(c -> c == '.').count();
    if (dots == 0) {
      return List.of(host + "." + namespace + suffix, host);
    }
    if (dots == 1) {
      return List.of(host + suffix, host);
    }
    if (host.endsWith(".svc")) {
      return List.of(host + "." + domainSuffix, host);
    }
    return List.of(host);
  }

  /**
   * Client listeners named as dialled ({@code host:port}) and server listeners ({@code
   * xds.istio.io/grpc/lds/inbound/<ip>:<port>}); names that resolve to neither are left out.
   */
  public Map<String, Message> listeners(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Map<String, Message> listeners = new TreeMap<>();
    for (String name : names) {
      if (ProxylessServerListeners.isServerListener(name)) {
        ProxylessServerListeners.listener(snapshot, proxy, name, trustDomain)
            .ifPresent(listener -> listeners.put(name, listener));
        continue;
      }
      resolve(snapshot, proxy, name).ifPresent(target -> listeners.put(name, apiListener(name)));
    }
    return listeners;
  }

  /**
   * Route configurations named as dialled. One depends on the client's namespace and, where a
   * VirtualService matches on source labels, its labels: it is built once per those and snapshot.
   */
  public Map<String, Message> routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Map<String, Message> routes = new TreeMap<>();
    Map<String, String> labels = OutboundKey.usesSourceLabels(snapshot) ? proxy.labels() : Map.of();
    for (String name : names) {
      snapshot
          .derived(
              List.of("grpc-rds", domainSuffix, proxy.namespace(), labels, name),
              () -> routeConfiguration(snapshot, proxy, name))
          .ifPresent(route -> routes.put(name, route));
    }
    return routes;
  }

  private Optional<Message> routeConfiguration(
      MeshSnapshot snapshot, ProxyView proxy, String name) {
    Optional<Target> target = resolve(snapshot, proxy, name);
    if (target.isEmpty()) {
      return Optional.empty();
    }
    VirtualHost.Builder host =
        VirtualHost.newBuilder()
            .setName(target.get().service().hostname() + ":" + target.get().port().port())
            .addDomains(name);
    for (Route route :
        routeBuilder.routes(snapshot, proxy, target.get().service(), target.get().port().port())) {
      host.addRoutes(route);
    }
    return Optional.of(RouteConfiguration.newBuilder().setName(name).addVirtualHosts(host).build());
  }

  /** Clusters named by the client; each depends on its namespace alone and is shared by it. */
  public Map<String, Message> clusters(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Map<String, Message> clusters = new TreeMap<>();
    for (String name : names) {
      snapshot
          .derived(
              List.of("grpc-cds", trustDomain, proxy.namespace(), name),
              () -> cluster(snapshot, proxy, name))
          .ifPresent(cluster -> clusters.put(name, cluster));
    }
    return clusters;
  }

  private Optional<Message> cluster(MeshSnapshot snapshot, ProxyView proxy, String name) {
    Optional<EnvoyNames.OutboundCluster> parsed = EnvoyNames.parseOutboundCluster(name);
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    Optional<MeshService> service = snapshot.service(parsed.get().host());
    Optional<ServicePort> port = service.flatMap(s -> s.port(parsed.get().port()));
    if (port.isEmpty()) {
      return Optional.empty();
    }
    Optional<ProxylessClusters.Policy> policy =
        ProxylessClusters.policy(snapshot, proxy, parsed.get(), service.get().namespace());
    if (policy.isEmpty()) {
      return Optional.empty(); // a subset no DestinationRule defines
    }
    Cluster.Builder cluster =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS).setServiceName(name))
            .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    ProxylessClusters.apply(cluster, policy.get().traffic());
    UpstreamTls.of(snapshot, service.get(), parsed.get(), policy.get().traffic(), trustDomain)
        .applyToGrpc(
            cluster,
            snapshot,
            snapshot.endpoints(
                service.get().hostname(), port.get().name(), policy.get().subsetLabels()),
            port.get(),
            name + " for clients in namespace " + proxy.namespace());
    return Optional.of(cluster.build());
  }

  public Map<String, Message> endpoints(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return assignments(snapshot, proxy, names, true);
  }

  /**
   * Endpoints of {@code outbound|port|subset|host} clusters, for sidecars and gRPC clients alike;
   * for gRPC clients none where the DestinationRule asks for TLS they cannot originate.
   */
  static Map<String, Message> assignments(
      MeshSnapshot snapshot, ProxyView proxy, Set<String> names, boolean grpcClient) {
    // Proxies alike in namespace and locality (and labels, where a rule fails over by them) that
    // subscribe to the same names (the xDS server shares equal subscriptions) share the answer.
    Map<String, String> labels =
        LocalityPolicy.anyReadsProxyLabels(snapshot) ? proxy.labels() : Map.of();
    return snapshot.derived(
        List.of("eds-names", grpcClient, proxy.namespace(), proxy.locality(), labels, names),
        () ->
            java.util.Collections.unmodifiableMap(
                buildAssignments(snapshot, proxy, names, grpcClient, labels)));
  }

  /** {@code labels}: the proxy's, where a rule of the snapshot fails over by them, else empty. */
  private static Map<String, Message> buildAssignments(
      MeshSnapshot snapshot,
      ProxyView proxy,
      Set<String> names,
      boolean grpcClient,
      Map<String, String> labels) {
    Map<String, Message> assignments = new TreeMap<>();
    for (String name : names) {
      Optional<EnvoyNames.OutboundCluster> parsed = EnvoyNames.parseOutboundCluster(name);
      if (parsed.isEmpty()) {
        continue;
      }
      Optional<MeshService> service = snapshot.service(parsed.get().host());
      Optional<ServicePort> port = service.flatMap(s -> s.port(parsed.get().port()));
      if (port.isEmpty()) {
        continue;
      }
      Optional<ProxylessClusters.Policy> policy =
          ProxylessClusters.policy(snapshot, proxy, parsed.get(), service.get().namespace());
      if (policy.isEmpty()) {
        continue;
      }
      // The assignment depends on the proxy through the rule it picks, its locality and, for
      // failover by labels only, its labels: proxies alike in those share one.
      ServicePort servicePort = port.get();
      Message assignment =
          snapshot.derived(
              List.of("eds", grpcClient, policy.get().ruleName(), proxy.locality(), labels, name),
              () -> {
                List<Endpoint> endpoints =
                    grpcClient && UpstreamTls.originatesTls(policy.get().traffic())
                        ? List.of()
                        : snapshot.endpoints(
                            parsed.get().host(), servicePort.name(), policy.get().subsetLabels());
                return assignment(
                    name,
                    endpoints,
                    servicePort,
                    proxy,
                    policy.get().traffic(),
                    e -> UpstreamTls.acceptsMtls(snapshot, e, servicePort));
              });
      assignments.put(name, assignment);
    }
    return assignments;
  }

  /**
   * Healthy endpoints grouped by locality, with failover priorities when the policy asks for them;
   * every locality gets a weight, as grpc-xds requires. Endpoints that accept mesh mTLS carry the
   * {@code tlsMode: istio} metadata auto mTLS matches on.
   */
  static ClusterLoadAssignment assignment(
      String name,
      List<Endpoint> endpoints,
      ServicePort port,
      ProxyView proxy,
      io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy traffic,
      java.util.function.Predicate<Endpoint> acceptsMtls) {
    LocalityPolicy locality = LocalityPolicy.of(proxy, traffic);
    record Group(Locality locality, int priority) {}
    Map<Group, LocalityLbEndpoints.Builder> groups = new LinkedHashMap<>();
    for (Endpoint endpoint : endpoints) {
      if (endpoint.health() != Endpoint.Health.HEALTHY
          || locality.weight(endpoint.locality()) == 0) {
        continue;
      }
      int target = endpoint.ports().getOrDefault(port.name(), port.port());
      Group group = new Group(endpoint.locality(), locality.priority(endpoint));
      LbEndpoint.Builder lbEndpoint =
          LbEndpoint.newBuilder()
              .setLoadBalancingWeight(UInt32Value.of(Math.max(1, endpoint.weight())))
              .setEndpoint(
                  io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                      .setAddress(
                          Address.newBuilder()
                              .setSocketAddress(
                                  SocketAddress.newBuilder()
                                      .setAddress(endpoint.address())
                                      .setPortValue(target))));
      if (acceptsMtls.test(endpoint)) {
        lbEndpoint.setMetadata(EnvoyTlsBuilder.istioMtlsEndpointMetadata());
      }
      groups
          .computeIfAbsent(
              group,
              g ->
                  LocalityLbEndpoints.newBuilder()
                      .setLocality(
                          io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
                              .setRegion(g.locality().region())
                              .setZone(g.locality().zone())
                              .setSubZone(g.locality().subzone()))
                      .setPriority(g.priority()))
          .addLbEndpoints(lbEndpoint);
    }
    ClusterLoadAssignment.Builder assignment =
        ClusterLoadAssignment.newBuilder().setClusterName(name);
    List<Map.Entry<Group, LocalityLbEndpoints.Builder>> sorted =
        new java.util.ArrayList<>(groups.entrySet());
    sorted.sort(java.util.Comparator.comparingInt(e -> e.getKey().priority()));
    List<LocalityLbEndpoints.Builder> localities =
        sorted.stream().map(Map.Entry::getValue).toList();
    renumber(localities);
    for (Map.Entry<Group, LocalityLbEndpoints.Builder> entry : sorted) {
      int distributed = locality.weight(entry.getKey().locality());
      int weight =
          distributed > 0 ? distributed : Math.max(1, entry.getValue().getLbEndpointsCount());
      entry.getValue().setLoadBalancingWeight(UInt32Value.of(weight));
      assignment.addEndpoints(entry.getValue());
    }
    return assignment.build();
  }

  /** Envoy and gRPC require priorities without gaps (0, 1, 2...). */
  private static void renumber(List<LocalityLbEndpoints.Builder> sorted) {
    int next = -1;
    int previous = Integer.MIN_VALUE;
    for (LocalityLbEndpoints.Builder locality : sorted) {
      if (locality.getPriority() != previous) {
        previous = locality.getPriority();
        next++;
      }
      locality.setPriority(next);
    }
  }

  private static Listener apiListener(String name) {
    HttpConnectionManager manager =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setRouteConfigName(name).setConfigSource(ADS))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(HttpRoutes.FAULT_FILTER)
                    .setTypedConfig(
                        Any.pack(
                            io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault
                                .getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(manager)))
        .build();
  }
}
