package dev.bosun.controlplane.xds.proxyless;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.traffic.EndpointAssignments;
import dev.bosun.xds.XdsTypes;
import java.util.Set;

/**
 * Proxyless EDS: the assignments of the clusters a client names; none where the DestinationRule
 * asks for TLS a gRPC client cannot originate.
 */
public final class ProxylessEndpoints implements TypeGenerator {
  @Override
  public String typeUrl() {
    return XdsTypes.ENDPOINT;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return Generated.of(EndpointAssignments.assignments(snapshot, proxy, names, true));
  }

  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return EndpointAssignments.concern(change);
  }
}
