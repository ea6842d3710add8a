package dev.bosun.controlplane.xds.proxyless;

import com.google.protobuf.Message;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.policy.ClusterPolicies;
import dev.bosun.controlplane.xds.policy.UpstreamTls;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Proxyless CDS: the EDS clusters a client names, mTLS as DestinationRules or auto mTLS say. */
public final class ProxylessClusters implements TypeGenerator {
  private final String trustDomain;

  public ProxylessClusters(String trustDomain) {
    this.trustDomain = trustDomain;
  }

  @Override
  public String typeUrl() {
    return XdsTypes.CLUSTER;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return clusters(snapshot, proxy, names);
  }

  /** Clusters read services and endpoints, DestinationRules and PeerAuthentication. */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.touches(IstioKind.DESTINATION_RULE)
        || change.touches(IstioKind.PEER_AUTHENTICATION);
  }

  /** Clusters named by the client; each depends on its namespace alone and is shared by it. */
  public Generated clusters(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Warnings warnings = new Warnings();
    Map<String, Message> clusters = new TreeMap<>();
    for (String name : names) {
      warnings
          .derived(
              snapshot,
              List.of("grpc-cds", trustDomain, proxy.namespace(), name),
              own -> cluster(snapshot, proxy, name, own))
          .ifPresent(cluster -> clusters.put(name, cluster));
    }
    return Generated.of(clusters, warnings);
  }

  private Optional<Message> cluster(
      MeshSnapshot snapshot, ProxyView proxy, String name, Warnings warnings) {
    Optional<EnvoyNames.OutboundCluster> parsed = EnvoyNames.parseOutboundCluster(name);
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    Optional<MeshService> service = snapshot.service(parsed.get().host());
    Optional<ServicePort> port = service.flatMap(s -> s.port(parsed.get().port()));
    if (port.isEmpty()) {
      return Optional.empty();
    }
    Optional<ClusterPolicies.Policy> policy =
        ClusterPolicies.policy(snapshot, proxy, parsed.get(), service.get().namespace());
    if (policy.isEmpty()) {
      return Optional.empty(); // a subset no DestinationRule defines
    }
    Cluster.Builder cluster =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder()
                    .setEdsConfig(EnvoyAddresses.ADS)
                    .setServiceName(name))
            .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    ClusterPolicies.apply(cluster, policy.get().traffic());
    leastRequestAsPolicyList(cluster);
    UpstreamTls.of(snapshot, service.get(), parsed.get(), policy.get().traffic(), trustDomain)
        .applyToGrpc(
            cluster,
            snapshot,
            snapshot.endpoints(
                service.get().hostname(), port.get().name(), policy.get().subsetLabels()),
            port.get(),
            name + " for proxyless clients in namespace " + proxy.namespace(),
            warnings);
    return Optional.of(cluster.build());
  }

  /**
   * {@code LEAST_REQUEST} as a {@code load_balancing_policy} list (gRFC A52) instead of the legacy
   * enum, which grpc-java reads but other gRPC clients (grpc-js) refuse, NACKing the cluster: the
   * locality-weighted least-request policy, then plain least request, then round robin, of which
   * each client uses the first it supports. Round robin and ring hash stay as they are, since every
   * gRPC client reads those.
   */
  static void leastRequestAsPolicyList(Cluster.Builder cluster) {
    if (cluster.getLbPolicy() != Cluster.LbPolicy.LEAST_REQUEST) {
      return;
    }
    LoadBalancingPolicy.Policy leastRequest =
        policy(
            "envoy.load_balancing_policies.least_request",
            io.envoyproxy.envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest
                .getDefaultInstance());
    LoadBalancingPolicy.Policy roundRobin =
        policy(
            "envoy.load_balancing_policies.round_robin",
            io.envoyproxy.envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin
                .getDefaultInstance());
    LoadBalancingPolicy.Policy byLocality =
        policy(
            "envoy.load_balancing_policies.wrr_locality",
            io.envoyproxy.envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality
                .newBuilder()
                .setEndpointPickingPolicy(
                    LoadBalancingPolicy.newBuilder()
                        .addPolicies(leastRequest)
                        .addPolicies(roundRobin))
                .build());
    cluster
        .clearLbPolicy()
        .setLoadBalancingPolicy(
            LoadBalancingPolicy.newBuilder()
                .addPolicies(byLocality)
                .addPolicies(leastRequest)
                .addPolicies(roundRobin));
  }

  private static LoadBalancingPolicy.Policy policy(
      String name, com.google.protobuf.Message config) {
    return LoadBalancingPolicy.Policy.newBuilder()
        .setTypedExtensionConfig(
            io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig.newBuilder()
                .setName(name)
                .setTypedConfig(com.google.protobuf.Any.pack(config)))
        .build();
  }
}
