package dev.bosun.controlplane.xds.proxyless;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.traffic.EndpointAssignments;
import dev.bosun.xds.XdsTypes;
import java.util.Map;
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
  public Map<String, Message> generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return EndpointAssignments.assignments(snapshot, proxy, names, true);
  }

  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return EndpointAssignments.concern(change);
  }
}
