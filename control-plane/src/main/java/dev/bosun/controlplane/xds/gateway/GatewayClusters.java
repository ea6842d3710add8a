package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
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
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
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

  /**
   * istiod's SNI-DNAT clusters for {@code AUTO_PASSTHROUGH}: each EDS outbound cluster of a mesh
   * service again under its mTLS SNI ({@code outbound_.<port>_.<subset>_.<host>}), with its policy
   * but without TLS, since the client's mTLS passes through the gateway.
   */
  private static Map<String, Message> sniDnatClusters(
      MeshSnapshot snapshot, Map<String, Message> outbound) {
    Map<String, Message> clusters = new TreeMap<>();
    outbound.forEach(
        (name, message) -> {
          Cluster cluster = (Cluster) message;
          var parsed = EnvoyNames.parseOutboundCluster(name);
          if (parsed.isEmpty()
              || cluster.getType() != Cluster.DiscoveryType.EDS
              || snapshot.service(parsed.get().host()).map(s -> s.meshExternal()).orElse(true)) {
            return;
          }
          String sni = EnvoyNames.outboundSni(parsed.get());
          clusters.put(
              sni,
              cluster.toBuilder()
                  .setName(sni)
                  .setEdsClusterConfig(
                      cluster.getEdsClusterConfig().toBuilder().setServiceName(sni))
                  .clearTransportSocket()
                  .clearTransportSocketMatches()
                  .build());
        });
    return clusters;
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
    OutboundKey key =
        OutboundKey.of(snapshot, proxy, Optional.empty())
            .withSidecar(
                GatewayServers.of(snapshot, proxy).autoPassthrough() ? "auto-passthrough" : "");
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
              if (GatewayServers.of(snapshot, proxy).autoPassthrough()) {
                built.putAll(sniDnatClusters(snapshot, built));
              }
              return java.util.Collections.unmodifiableMap(built);
            });
    return Generated.of(all, warnings).named(names);
  }
}
