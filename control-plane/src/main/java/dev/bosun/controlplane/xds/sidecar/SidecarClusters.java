package dev.bosun.controlplane.xds.sidecar;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.MeshService.Resolution;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyClusterSettings;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.policy.ClusterPolicies;
import dev.bosun.controlplane.xds.policy.UpstreamTls;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.OutboundKey;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.SidecarScope;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sidecar CDS: outbound clusters {@code outbound|<port>|<subset>|<host>} for the services of the
 * proxy's scope (mTLS as DestinationRules or auto mTLS say, {@link UpstreamTls}), inbound clusters
 * {@code inbound|<port>||} for its own ports, {@code PassthroughCluster}, {@code
 * InboundPassthroughCluster} and {@code BlackHoleCluster}.
 */
public final class SidecarClusters implements TypeGenerator {
  public static final String PASSTHROUGH = "PassthroughCluster";
  public static final String BLACKHOLE = "BlackHoleCluster";
  static final String INBOUND_PASSTHROUGH = "InboundPassthroughCluster";

  private final String trustDomain;

  public SidecarClusters(String trustDomain) {
    this.trustDomain = trustDomain;
  }

  /**
   * The mesh config's {@code connectTimeout} (Istio's default 10 s), for every cluster whose
   * DestinationRule sets no {@code connectionPool.tcp.connectTimeout}.
   */
  static Duration connectTimeout(MeshSnapshot snapshot) {
    java.time.Duration timeout = snapshot.meshConfig().connectTimeout();
    return Duration.newBuilder()
        .setSeconds(timeout.getSeconds())
        .setNanos(timeout.getNano())
        .build();
  }

  @Override
  public String typeUrl() {
    return XdsTypes.CLUSTER;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return clusters(snapshot, proxy).named(names);
  }

  /**
   * Clusters read services and endpoints (inbound ports), DestinationRules of the hosts in scope,
   * PeerAuthentication (which endpoints accept mTLS) and the proxy's Sidecar; not VirtualServices
   * or authorization.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.touches(IstioKind.PEER_AUTHENTICATION)
        || change.appliesIn(IstioKind.SIDECAR, proxy.namespace())
        || change.sidecarSees(proxy, change.destinationRuleHosts());
  }

  /**
   * Every cluster of the proxy. The outbound ones depend only on its namespace and Sidecar scope,
   * so they are built once per scope and snapshot (each cluster once per namespace) and shared; the
   * inbound ones are the proxy's own.
   */
  public Generated clusters(MeshSnapshot snapshot, ProxyView proxy) {
    OutboundKey key = OutboundKey.of(snapshot, proxy);
    Map<Integer, ServicePort> inboundPorts = inboundPorts(snapshot, proxy);
    // Inbound clusters depend only on the port numbers: proxies of one scope serving the same
    // ports share the whole map.
    Warnings warnings = new Warnings();
    Map<String, Message> clusters =
        warnings.derived(
            snapshot,
            List.of("cds", trustDomain, key.namespace(), key.sidecar(), inboundPorts.keySet()),
            own ->
                java.util.Collections.unmodifiableMap(
                    allClusters(snapshot, proxy, key, inboundPorts.keySet(), own)));
    return Generated.of(clusters, warnings);
  }

  private Map<String, Message> allClusters(
      MeshSnapshot snapshot,
      ProxyView proxy,
      OutboundKey key,
      Set<Integer> inboundPorts,
      Warnings warnings) {
    Map<String, Message> clusters =
        new TreeMap<>(
            outboundClusters(snapshot, proxy, key, SidecarScope.of(snapshot, proxy), warnings));
    for (int inboundPort : inboundPorts) {
      String name = "inbound|" + inboundPort + "||";
      clusters.put(
          name,
          Cluster.newBuilder()
              .setName(name)
              .setType(Cluster.DiscoveryType.STATIC)
              .setConnectTimeout(connectTimeout(snapshot))
              .setLoadAssignment(staticAssignment(name, "127.0.0.1", inboundPort))
              .build());
    }
    clusters.put(PASSTHROUGH, originalDst(snapshot, PASSTHROUGH));
    clusters.put(INBOUND_PASSTHROUGH, originalDst(snapshot, INBOUND_PASSTHROUGH));
    clusters.put(BLACKHOLE, blackHole(snapshot));
    return clusters;
  }

  /** {@code PassthroughCluster}: to wherever the connection was going. */
  public static Cluster passthrough(MeshSnapshot snapshot) {
    return originalDst(snapshot, PASSTHROUGH);
  }

  /** {@code BlackHoleCluster}: no endpoints, so whatever is routed there fails. */
  public static Cluster blackHole(MeshSnapshot snapshot) {
    return Cluster.newBuilder()
        .setName(BLACKHOLE)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(connectTimeout(snapshot))
        .build();
  }

  /**
   * The outbound clusters of {@code scope} (the services a proxy sees), shared by every proxy of
   * that {@link OutboundKey}.
   */
  public Map<String, Message> outboundClusters(
      MeshSnapshot snapshot,
      ProxyView proxy,
      OutboundKey key,
      SidecarScope scope,
      Warnings warnings) {
    return outboundClusters(snapshot, proxy, key, scope, false, warnings);
  }

  /**
   * The outbound clusters of {@code scope}; a {@code gateway}'s originate TLS with a
   * DestinationRule's {@code credentialName}, which sidecars ignore, so they are shared only among
   * gateways.
   */
  public Map<String, Message> outboundClusters(
      MeshSnapshot snapshot,
      ProxyView proxy,
      OutboundKey key,
      SidecarScope scope,
      boolean gateway,
      Warnings warnings) {
    return warnings.derived(
        snapshot,
        List.of("cds-outbound", trustDomain, key.namespace(), key.sidecar(), gateway),
        scopeWarnings -> {
          Map<String, Message> clusters = new TreeMap<>();
          for (MeshService service : scope.services()) {
            for (ServicePort port : service.ports()) {
              for (String subset : subsets(snapshot, proxy, service)) {
                String name = EnvoyNames.outboundCluster(port.port(), subset, service.hostname());
                // A cluster depends on the proxy only through the DestinationRule it picks, so
                // namespaces that pick the same rule (or none) share it.
                Optional<ClusterPolicies.Policy> policy =
                    ClusterPolicies.policy(
                        snapshot,
                        proxy,
                        new EnvoyNames.OutboundCluster(port.port(), subset, service.hostname()),
                        service.namespace());
                if (policy.isEmpty()) {
                  continue;
                }
                Optional<Message> cluster =
                    scopeWarnings.derived(
                        snapshot,
                        List.of("cds-cluster", trustDomain, policy.get().ruleName(), name, gateway),
                        own -> outboundCluster(snapshot, proxy, service, port, name, gateway, own));
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
      MeshSnapshot snapshot,
      ProxyView proxy,
      MeshService service,
      ServicePort port,
      String name,
      boolean gateway,
      Warnings warnings) {
    EnvoyNames.OutboundCluster parsed = EnvoyNames.parseOutboundCluster(name).orElseThrow();
    Optional<ClusterPolicies.Policy> policy =
        ClusterPolicies.policy(snapshot, proxy, parsed, service.namespace());
    if (policy.isEmpty()) {
      return Optional.empty();
    }
    Cluster.Builder cluster =
        Cluster.newBuilder().setName(name).setConnectTimeout(connectTimeout(snapshot));
    UpstreamTls tls =
        UpstreamTls.of(snapshot, service, parsed, policy.get().traffic(), trustDomain);
    String where =
        policy.get().ruleName().isEmpty() ? name : policy.get().ruleName() + " (" + name + ")";
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
          gateway,
          where,
          warnings);
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
              Cluster.EdsClusterConfig.newBuilder()
                  .setEdsConfig(EnvoyAddresses.ADS)
                  .setServiceName(name));
    }
    ClusterPolicies.apply(cluster, policy.get().traffic());
    EnvoyClusterSettings.apply(cluster, policy.get().traffic(), port.protocol().isHttp2());
    tls.applyToSidecar(
        cluster,
        snapshot,
        snapshot.endpoints(service.hostname(), port.name(), policy.get().subsetLabels()),
        port,
        EnvoyClusterSettings.http2(policy.get().traffic(), port.protocol().isHttp2()),
        gateway,
        where,
        warnings);
    return Optional.of(cluster.build());
  }

  private static Cluster originalDst(MeshSnapshot snapshot, String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setConnectTimeout(connectTimeout(snapshot))
        .build();
  }

  /** The proxy's own service ports, by the port its workload listens on. */
  static Map<Integer, ServicePort> inboundPorts(MeshSnapshot snapshot, ProxyView proxy) {
    Map<Integer, ServicePort> ports = new TreeMap<>();
    for (ServiceTarget target : serviceTargets(snapshot, proxy)) {
      if (target.service().namespace().equals(proxy.namespace())) {
        ports.putIfAbsent(target.targetPort(), target.port());
      }
    }
    return ports;
  }

  /** A port of a Kubernetes service that one of its endpoints, the proxy, serves on a port. */
  public record ServiceTarget(MeshService service, ServicePort port, int targetPort) {}

  /**
   * The service ports whose endpoints are the proxy's addresses, with the port the proxy serves
   * each on: in service order, then endpoint order, so the first service to claim a port comes
   * first.
   */
  public static List<ServiceTarget> serviceTargets(MeshSnapshot snapshot, ProxyView proxy) {
    if (proxy.ip().isEmpty() && proxy.instanceIps().isEmpty()) {
      return List.of();
    }
    Map<String, List<OwnEndpoint>> byAddress = endpointsByAddress(snapshot);
    List<OwnEndpoint> own = new ArrayList<>(byAddress.getOrDefault(proxy.ip(), List.of()));
    for (String address : proxy.instanceIps()) {
      if (!address.equals(proxy.ip())) {
        own.addAll(byAddress.getOrDefault(address, List.of()));
      }
    }
    own.sort(Comparator.comparingInt(OwnEndpoint::order));
    List<ServiceTarget> targets = new ArrayList<>();
    for (OwnEndpoint entry : own) {
      for (ServicePort port : entry.service().ports()) {
        Integer target = entry.endpoint().ports().get(port.name());
        if (target != null) {
          targets.add(new ServiceTarget(entry.service(), port, target));
        }
      }
    }
    return targets;
  }

  /** An endpoint of a Kubernetes service, with its position in the snapshot's iteration order. */
  private record OwnEndpoint(int order, MeshService service, Endpoint endpoint) {}

  /** The endpoints of Kubernetes services by address, built once per snapshot. */
  private static Map<String, List<OwnEndpoint>> endpointsByAddress(MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("kubernetes-endpoints-by-address"),
        () -> {
          Map<String, List<OwnEndpoint>> byAddress = new HashMap<>();
          int order = 0;
          for (MeshService service : snapshot.services().values()) {
            if (service.origin() != MeshService.Origin.KUBERNETES) {
              continue;
            }
            for (Endpoint endpoint : snapshot.endpoints(service.hostname())) {
              byAddress
                  .computeIfAbsent(endpoint.address(), a -> new ArrayList<>())
                  .add(new OwnEndpoint(order++, service, endpoint));
            }
          }
          return byAddress;
        });
  }

  private static LbEndpoint lbEndpoint(String address, int port) {
    return LbEndpoint.newBuilder()
        .setEndpoint(
            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                .setAddress(EnvoyAddresses.socket(address, port)))
        .build();
  }

  private static ClusterLoadAssignment staticAssignment(String name, String address, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(name)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(lbEndpoint(address, port)))
        .build();
  }
}
