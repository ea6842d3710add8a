package dev.bosun.controlplane.xds;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.MeshService.Resolution;
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
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Envoy sidecar configuration, a pure function of a snapshot and a proxy, with Istio's names:
 * clusters {@code outbound|<port>|<subset>|<host>} and {@code inbound|<port>||}, {@code
 * PassthroughCluster} and {@code BlackHoleCluster}; listeners {@code virtualOutbound} (15001), one
 * per outbound HTTP port ({@code 0.0.0.0_<port>}, routes from RDS {@code <port>}) or TCP service
 * ({@code <ip>_<port>}), and {@code virtualInbound} (15006) with chains per inbound port and mTLS
 * mode ({@link SidecarInbound}). Outbound clusters use mTLS as DestinationRules or auto mTLS say
 * ({@link UpstreamTls}).
 */
public final class SidecarGenerator {
  static final String PASSTHROUGH = "PassthroughCluster";
  static final String BLACKHOLE = "BlackHoleCluster";
  static final String INBOUND_PASSTHROUGH = "InboundPassthroughCluster";
  private static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();
  private static final Duration CONNECT_TIMEOUT = Duration.newBuilder().setSeconds(10).build();

  private final HttpRoutes routes;
  private final String trustDomain;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public SidecarGenerator(String domainSuffix) {
    this(domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public SidecarGenerator(String domainSuffix, String trustDomain) {
    this.routes = new HttpRoutes(domainSuffix, true);
    this.trustDomain = trustDomain;
  }

  // ---- CDS ----------------------------------------------------------------------------------

  /**
   * Every cluster of the proxy. The outbound ones depend only on its namespace and Sidecar scope,
   * so they are built once per scope and snapshot (each cluster once per namespace) and shared; the
   * inbound ones are the proxy's own.
   */
  public Map<String, Message> clusters(MeshSnapshot snapshot, ProxyView proxy) {
    OutboundKey key = OutboundKey.of(snapshot, proxy);
    Map<Integer, ServicePort> inboundPorts = inboundPorts(snapshot, proxy);
    // Inbound clusters depend only on the port numbers: proxies of one scope serving the same
    // ports share the whole map.
    return snapshot.derived(
        List.of("cds", trustDomain, key.namespace(), key.sidecar(), inboundPorts.keySet()),
        () ->
            java.util.Collections.unmodifiableMap(
                allClusters(snapshot, proxy, key, inboundPorts.keySet())));
  }

  private Map<String, Message> allClusters(
      MeshSnapshot snapshot, ProxyView proxy, OutboundKey key, Set<Integer> inboundPorts) {
    Map<String, Message> clusters = new TreeMap<>(outboundClusters(snapshot, proxy, key));
    for (int inboundPort : inboundPorts) {
      String name = "inbound|" + inboundPort + "||";
      clusters.put(
          name,
          Cluster.newBuilder()
              .setName(name)
              .setType(Cluster.DiscoveryType.STATIC)
              .setConnectTimeout(CONNECT_TIMEOUT)
              .setLoadAssignment(staticAssignment(name, "127.0.0.1", inboundPort))
              .build());
    }
    clusters.put(PASSTHROUGH, originalDst(PASSTHROUGH));
    clusters.put(INBOUND_PASSTHROUGH, originalDst(INBOUND_PASSTHROUGH));
    clusters.put(
        BLACKHOLE,
        Cluster.newBuilder()
            .setName(BLACKHOLE)
            .setType(Cluster.DiscoveryType.STATIC)
            .setConnectTimeout(CONNECT_TIMEOUT)
            .build());
    return clusters;
  }

  /** The outbound clusters of the proxy's scope, shared by every proxy of that scope. */
  private Map<String, Message> outboundClusters(
      MeshSnapshot snapshot, ProxyView proxy, OutboundKey key) {
    return snapshot.derived(
        List.of("cds-outbound", trustDomain, key.namespace(), key.sidecar()),
        () -> {
          Map<String, Message> clusters = new TreeMap<>();
          SidecarScope scope = SidecarScope.of(snapshot, proxy);
          for (MeshService service : scope.services()) {
            for (ServicePort port : service.ports()) {
              for (String subset : subsets(snapshot, proxy, service)) {
                String name = EnvoyNames.outboundCluster(port.port(), subset, service.hostname());
                // A cluster depends on the proxy only through the DestinationRule it picks, so
                // namespaces that pick the same rule (or none) share it.
                Optional<ProxylessClusters.Policy> policy =
                    ProxylessClusters.policy(
                        snapshot,
                        proxy,
                        new EnvoyNames.OutboundCluster(port.port(), subset, service.hostname()),
                        service.namespace());
                if (policy.isEmpty()) {
                  continue;
                }
                Optional<Message> cluster =
                    snapshot.derived(
                        List.of("cds-cluster", trustDomain, policy.get().ruleName(), name),
                        () -> outboundCluster(snapshot, proxy, service, port, name));
                cluster.ifPresent(c -> clusters.put(name, c));
              }
            }
          }
          return java.util.Collections.unmodifiableMap(clusters);
        });
  }

  /** "" plus each subset the service's DestinationRule defines. */
  private static List<String> subsets(MeshSnapshot snapshot, ProxyView proxy, MeshService service) {
    List<String> subsets = new ArrayList<>();
    subsets.add("");
    snapshot
        .config()
        .destinationRule(service.hostname(), proxy.namespace(), service.namespace())
        .map(e -> e.spec(io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule.class))
        .filter(dr -> dr.getSubsets() != null)
        .ifPresent(dr -> dr.getSubsets().forEach(s -> subsets.add(s.getName())));
    return subsets;
  }

  private Optional<Message> outboundCluster(
      MeshSnapshot snapshot, ProxyView proxy, MeshService service, ServicePort port, String name) {
    EnvoyNames.OutboundCluster parsed = EnvoyNames.parseOutboundCluster(name).orElseThrow();
    Optional<ProxylessClusters.Policy> policy =
        ProxylessClusters.policy(snapshot, proxy, parsed, service.namespace());
    if (policy.isEmpty()) {
      return Optional.empty();
    }
    Cluster.Builder cluster = Cluster.newBuilder().setName(name).setConnectTimeout(CONNECT_TIMEOUT);
    UpstreamTls tls =
        UpstreamTls.of(snapshot, service, parsed, policy.get().traffic(), trustDomain);
    String where = name + " for proxies in namespace " + proxy.namespace();
    if (service.resolution() == Resolution.PASSTHROUGH) {
      cluster
          .setType(Cluster.DiscoveryType.ORIGINAL_DST)
          .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
      tls.applyToSidecar(
          cluster,
          snapshot,
          snapshot.endpoints(service.hostname(), port.name(), policy.get().subsetLabels()),
          port,
          port.protocol().isHttp2(),
          where);
      return Optional.of(cluster.build());
    }
    if (service.resolution() == Resolution.DNS
        || service.resolution() == Resolution.DNS_ROUND_ROBIN) {
      cluster.setType(
          service.resolution() == Resolution.DNS
              ? Cluster.DiscoveryType.STRICT_DNS
              : Cluster.DiscoveryType.LOGICAL_DNS);
      List<Endpoint> endpoints =
          snapshot.endpoints(service.hostname(), port.name(), policy.get().subsetLabels());
      ClusterLoadAssignment.Builder assignment =
          ClusterLoadAssignment.newBuilder().setClusterName(name);
      LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
      if (endpoints.isEmpty()) {
        locality.addLbEndpoints(lbEndpoint(service.hostname(), port.port()));
      } else {
        for (Endpoint e : endpoints) {
          LbEndpoint.Builder endpoint =
              lbEndpoint(e.address(), e.ports().getOrDefault(port.name(), port.port())).toBuilder();
          if (UpstreamTls.acceptsMtls(snapshot, e, port)) {
            endpoint.setMetadata(EnvoyTlsBuilder.istioMtlsEndpointMetadata());
          }
          locality.addLbEndpoints(endpoint);
        }
      }
      cluster.setLoadAssignment(assignment.addEndpoints(locality));
    } else {
      cluster
          .setType(Cluster.DiscoveryType.EDS)
          .setEdsClusterConfig(
              Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS).setServiceName(name));
    }
    ProxylessClusters.apply(cluster, policy.get().traffic());
    EnvoyClusterSettings.apply(cluster, policy.get().traffic(), port.protocol().isHttp2());
    tls.applyToSidecar(
        cluster,
        snapshot,
        snapshot.endpoints(service.hostname(), port.name(), policy.get().subsetLabels()),
        port,
        EnvoyClusterSettings.http2(policy.get().traffic(), port.protocol().isHttp2()),
        where);
    return Optional.of(cluster.build());
  }

  private static Cluster originalDst(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setConnectTimeout(CONNECT_TIMEOUT)
        .build();
  }

  /** The proxy's own service ports, by the port its workload listens on. */
  static Map<Integer, ServicePort> inboundPorts(MeshSnapshot snapshot, ProxyView proxy) {
    Map<Integer, ServicePort> ports = new TreeMap<>();
    if (proxy.ip().isEmpty() && proxy.instanceIps().isEmpty()) {
      return ports;
    }
    for (MeshService service : snapshot.services().values()) {
      if (service.origin() != MeshService.Origin.KUBERNETES
          || !service.namespace().equals(proxy.namespace())) {
        continue;
      }
      for (Endpoint endpoint : snapshot.endpoints(service.hostname())) {
        if (!proxy.hasAddress(endpoint.address())) {
          continue;
        }
        for (ServicePort port : service.ports()) {
          Integer target = endpoint.ports().get(port.name());
          if (target != null) {
            ports.putIfAbsent(target, port);
          }
        }
      }
    }
    return ports;
  }

  // ---- EDS ----------------------------------------------------------------------------------

  public Map<String, Message> endpoints(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return ProxylessGenerator.assignments(snapshot, proxy, names, false);
  }

  // ---- LDS ----------------------------------------------------------------------------------

  /**
   * Every listener of the proxy. The outbound ones depend only on its {@link OutboundKey}, so they
   * are built once per key and snapshot and shared; {@code virtualInbound} is the proxy's own.
   */
  public Map<String, Message> listeners(MeshSnapshot snapshot, ProxyView proxy) {
    Map<String, Message> listeners = new TreeMap<>(outboundListeners(snapshot, proxy));
    listeners.put(
        SidecarInbound.NAME,
        SidecarInbound.listener(snapshot, proxy, inboundPorts(snapshot, proxy), trustDomain));
    return listeners;
  }

  private Map<String, Message> outboundListeners(MeshSnapshot snapshot, ProxyView proxy) {
    return snapshot.derived(
        List.of("lds-outbound", routes.domainSuffix(), OutboundKey.of(snapshot, proxy)),
        () -> java.util.Collections.unmodifiableMap(buildOutboundListeners(snapshot, proxy)));
  }

  private Map<String, Message> buildOutboundListeners(MeshSnapshot snapshot, ProxyView proxy) {
    Map<String, Message> listeners = new TreeMap<>();
    SidecarScope scope = SidecarScope.of(snapshot, proxy);
    Set<Integer> httpPorts = new LinkedHashSet<>();
    for (MeshService service : scope.services()) {
      for (ServicePort port : service.ports()) {
        if (port.protocol().isHttp()) {
          httpPorts.add(port.port());
        } else if (!service.addresses().isEmpty()
            && service.resolution() != Resolution.PASSTHROUGH) {
          String address = service.addresses().get(0);
          String name = address + "_" + port.port();
          TcpRoutes.Chains chains =
              TcpRoutes.chains(snapshot, proxy, service, port.port(), name, routes);
          Listener.Builder listener =
              Listener.newBuilder()
                  .setName(name)
                  .setAddress(address(address, port.port()))
                  .setBindToPort(BoolValue.of(false))
                  .addAllFilterChains(chains.chains());
          if (chains.sni()) {
            listener.addListenerFilters(TcpRoutes.tlsInspector());
          }
          listeners.put(name, listener.build());
        }
      }
    }
    for (int port : httpPorts) {
      String name = "0.0.0.0_" + port;
      listeners.putIfAbsent(
          name,
          listener(
              name,
              "0.0.0.0",
              port,
              false,
              FilterChain.newBuilder()
                  .addFilters(EnvoyFilters.httpConnectionManager("outbound_" + name, rds(port)))
                  .build()));
    }
    String fallback = scope.registryOnly() ? BLACKHOLE : PASSTHROUGH;
    listeners.put(
        "virtualOutbound",
        Listener.newBuilder()
            .setName("virtualOutbound")
            .setAddress(address("0.0.0.0", 15001))
            .setUseOriginalDst(BoolValue.of(true))
            .setDefaultFilterChain(tcpChain("virtualOutbound", fallback))
            .build());
    return listeners;
  }

  private static Listener listener(
      String name, String ip, int port, boolean bind, FilterChain chain) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(address(ip, port))
        .setBindToPort(BoolValue.of(bind))
        .addFilterChains(chain)
        .build();
  }

  private static java.util.function.Consumer<HttpConnectionManager.Builder> rds(int port) {
    return manager ->
        manager.setRds(
            Rds.newBuilder().setRouteConfigName(Integer.toString(port)).setConfigSource(ADS));
  }

  private static FilterChain tcpChain(String statPrefix, String cluster) {
    return FilterChain.newBuilder().addFilters(EnvoyFilters.tcpProxy(statPrefix, cluster)).build();
  }

  // ---- RDS ----------------------------------------------------------------------------------

  /**
   * Route configurations {@code <port>}: a virtual host per service on that port, plus a fallback.
   */
  public Map<String, Message> routes(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Map<String, Message> configs = new TreeMap<>();
    OutboundKey key = OutboundKey.of(snapshot, proxy);
    for (String name : names) {
      Optional<Message> config =
          snapshot.derived(
              List.of("rds", routes.domainSuffix(), key, name),
              () -> routeConfiguration(snapshot, proxy, name));
      config.ifPresent(c -> configs.put(name, c));
    }
    return configs;
  }

  /** The route configuration {@code <port>}, shared by every proxy of one {@link OutboundKey}. */
  private Optional<Message> routeConfiguration(
      MeshSnapshot snapshot, ProxyView proxy, String name) {
    SidecarScope scope = SidecarScope.of(snapshot, proxy);
    int port;
    try {
      port = Integer.parseInt(name);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    RouteConfiguration.Builder config =
        RouteConfiguration.newBuilder().setName(name).setValidateClusters(BoolValue.of(false));
    for (MeshService service : scope.services()) {
      if (service.port(port).filter(p -> p.protocol().isHttp()).isEmpty()) {
        continue;
      }
      VirtualHost.Builder host =
          VirtualHost.newBuilder()
              .setName(service.hostname() + ":" + port)
              .addAllDomains(domains(service, port, proxy));
      host.addAllRoutes(routes.routes(snapshot, proxy, service, port));
      config.addVirtualHosts(host);
    }
    String fallback = scope.registryOnly() ? BLACKHOLE : PASSTHROUGH;
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

  private static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  private static LbEndpoint lbEndpoint(String address, int port) {
    return LbEndpoint.newBuilder()
        .setEndpoint(
            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                .setAddress(address(address, port)))
        .build();
  }

  private static ClusterLoadAssignment staticAssignment(String name, String address, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(name)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(lbEndpoint(address, port)))
        .build();
  }
}
