package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.traffic.EndpointAssignments;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gateway EDS: the assignments of the EDS clusters the gateway subscribes to, as for sidecars; an
 * SNI-DNAT cluster ({@code outbound_.<port>_.<subset>_.<host>}, for {@code AUTO_PASSTHROUGH}) gets
 * the endpoints of its outbound cluster that accept mesh mTLS, since the client's mTLS passes
 * through to them.
 */
public final class GatewayEndpoints implements TypeGenerator {
  @Override
  public String typeUrl() {
    return XdsTypes.ENDPOINT;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Map<String, String> sniDnat = new HashMap<>();
    Set<String> outbound = new java.util.TreeSet<>();
    for (String name : names) {
      var parsed = EnvoyNames.parseOutboundSni(name);
      if (parsed.isPresent()) {
        String cluster =
            EnvoyNames.outboundCluster(
                parsed.get().port(), parsed.get().subset(), parsed.get().host());
        sniDnat.put(name, cluster);
        outbound.add(cluster);
      } else {
        outbound.add(name);
      }
    }
    Map<String, Message> assignments =
        EndpointAssignments.assignments(snapshot, proxy, outbound, false);
    if (sniDnat.isEmpty()) {
      return Generated.of(assignments);
    }
    Map<String, Message> all = new TreeMap<>();
    for (String name : names) {
      String cluster = sniDnat.get(name);
      if (cluster == null) {
        if (assignments.containsKey(name)) {
          all.put(name, assignments.get(name));
        }
      } else if (assignments.get(cluster) instanceof ClusterLoadAssignment assignment) {
        all.put(name, mtlsOnly(name, assignment));
      }
    }
    return Generated.of(all);
  }

  /** {@code assignment} under {@code name}, keeping the endpoints marked as accepting mesh mTLS. */
  private static ClusterLoadAssignment mtlsOnly(String name, ClusterLoadAssignment assignment) {
    ClusterLoadAssignment.Builder filtered = assignment.toBuilder().setClusterName(name);
    filtered.clearEndpoints();
    for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
      LocalityLbEndpoints.Builder kept = locality.toBuilder().clearLbEndpoints();
      for (LbEndpoint endpoint : locality.getLbEndpointsList()) {
        var match =
            endpoint.getMetadata().getFilterMetadataMap().get(EnvoyNames.TRANSPORT_SOCKET_MATCH);
        var mode = match == null ? null : match.getFieldsMap().get(EnvoyNames.TLS_MODE_KEY);
        if (mode != null && EnvoyNames.TLS_MODE_ISTIO.equals(mode.getStringValue())) {
          kept.addLbEndpoints(endpoint);
        }
      }
      if (kept.getLbEndpointsCount() > 0) {
        filtered.addEndpoints(kept);
      }
    }
    return filtered.build();
  }

  /** Assignments read endpoints, PeerAuthentication and DestinationRules (subsets, locality). */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.endpoints()
        || change.touches(IstioKind.PEER_AUTHENTICATION)
        || change.touches(IstioKind.DESTINATION_RULE);
  }
}
