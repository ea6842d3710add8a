package dev.bosun.controlplane.xds.gateway;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.traffic.EndpointAssignments;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import java.util.Set;

/** Gateway EDS: the assignments of the EDS clusters the gateway subscribes to, as for sidecars. */
public final class GatewayEndpoints implements TypeGenerator {
  @Override
  public String typeUrl() {
    return XdsTypes.ENDPOINT;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return Generated.of(EndpointAssignments.assignments(snapshot, proxy, names, false));
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
