package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.OutboundKey;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.SidecarScope;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.sidecar.SidecarClusters;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gateway CDS, as istiod sends it by default: the outbound clusters of every service exported to
 * the gateway's namespace (Sidecars never scope a gateway), DestinationRule policy and mTLS applied
 * as for sidecars (but TLS origination with a DestinationRule's {@code credentialName} takes the
 * Secret over SDS), and {@code BlackHoleCluster}; no inbound or passthrough clusters.
 */
public final class GatewayClusters implements TypeGenerator {
  private final SidecarClusters clusters;
  private final String trustDomain;

  public GatewayClusters(String trustDomain) {
    this.clusters = new SidecarClusters(trustDomain);
    this.trustDomain = trustDomain;
  }

  @Override
  public String typeUrl() {
    return XdsTypes.CLUSTER;
  }

  /** Clusters read services and endpoints, DestinationRules and PeerAuthentication (auto mTLS). */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.touches(IstioKind.DESTINATION_RULE)
        || change.touches(IstioKind.PEER_AUTHENTICATION);
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    OutboundKey key = OutboundKey.of(snapshot, proxy, Optional.empty());
    Warnings warnings = new Warnings();
    Map<String, Message> all =
        warnings.derived(
            snapshot,
            List.of("gateway-cds", trustDomain, key),
            own -> {
              Map<String, Message> built =
                  new TreeMap<>(
                      clusters.outboundClusters(
                          snapshot,
                          proxy,
                          key,
                          SidecarScope.of(snapshot, proxy, Optional.empty()),
                          true,
                          own));
              built.put(SidecarClusters.BLACKHOLE, SidecarClusters.blackHole(snapshot));
              return java.util.Collections.unmodifiableMap(built);
            });
    return Generated.of(all, warnings).named(names);
  }
}
