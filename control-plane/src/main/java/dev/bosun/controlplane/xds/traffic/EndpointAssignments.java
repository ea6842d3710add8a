package dev.bosun.controlplane.xds.traffic;

import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.policy.ClusterPolicies;
import dev.bosun.controlplane.xds.policy.LocalityPolicy;
import dev.bosun.controlplane.xds.policy.UpstreamTls;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.crd.IstioKind;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * ClusterLoadAssignments of {@code outbound|port|subset|host} clusters, for sidecars and gRPC
 * clients alike: healthy endpoints by locality, with the DestinationRule's locality policy.
 */
public final class EndpointAssignments {
  private EndpointAssignments() {}

  /**
   * Whether a change may change a proxy's assignments: endpoints changed, or the DestinationRules
   * (subsets, locality) or PeerAuthentication (which endpoints accept mTLS) they read.
   */
  public static boolean concern(MeshChange change) {
    return change.everything()
        || change.endpoints()
        || change.touches(IstioKind.DESTINATION_RULE)
        || change.touches(IstioKind.PEER_AUTHENTICATION);
  }

  /**
   * Endpoints of {@code outbound|port|subset|host} clusters, for sidecars and gRPC clients alike;
   * for gRPC clients none where the DestinationRule asks for TLS they cannot originate.
   */
  public static Map<String, Message> assignments(
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
      Optional<ClusterPolicies.Policy> policy =
          ClusterPolicies.policy(snapshot, proxy, parsed.get(), service.get().namespace());
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
                    snapshot.meshConfig().localityLbSetting(),
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
      io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSetting meshLocality,
      java.util.function.Predicate<Endpoint> acceptsMtls) {
    LocalityPolicy locality = LocalityPolicy.of(proxy, traffic, meshLocality);
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
}
