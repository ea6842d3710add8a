package dev.bosun.controlplane.xds.sidecar;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.traffic.EndpointAssignments;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import java.util.Set;

/** Sidecar EDS: the assignments of the EDS clusters the sidecar subscribes to. */
public final class SidecarEndpoints implements TypeGenerator {
  @Override
  public String typeUrl() {
    return XdsTypes.ENDPOINT;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return Generated.of(EndpointAssignments.assignments(snapshot, proxy, names, false));
  }

  /**
   * Assignments read endpoints, PeerAuthentication (which endpoints accept mTLS) and the
   * DestinationRules (subsets, locality) of the hosts in the sidecar's scope.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.endpoints()
        || change.touches(IstioKind.PEER_AUTHENTICATION)
        || change.sidecarSees(proxy, change.destinationRuleHosts());
  }
}
