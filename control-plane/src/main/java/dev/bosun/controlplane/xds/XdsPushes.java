package dev.bosun.controlplane.xds;

import dev.bosun.controlplane.mesh.MeshModel.SnapshotUpdate;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.PushScope;
import dev.bosun.xds.XdsServer;
import dev.bosun.xds.XdsTypes;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns each new snapshot into an xDS push: a full push may change every type (a push of
 * VirtualService edits alone only listeners and routes); an endpoints-only push changes only EDS,
 * and only the clusters (with their subset clusters) of the hosts whose endpoints changed. The
 * first snapshot also opens the server to clients.
 */
public final class XdsPushes implements Consumer<SnapshotUpdate> {
  private final XdsServer server;

  public XdsPushes(XdsServer server) {
    this.server = server;
  }

  /** What a VirtualService feeds: sidecar routes and TCP/TLS listeners, proxyless routes. */
  private static final Set<String> VIRTUAL_SERVICE_TYPES =
      Set.of(XdsTypes.LISTENER, XdsTypes.ROUTE);

  /**
   * The types a full push may change (empty: all). Clusters and endpoints do not depend on
   * VirtualServices, so a push of VirtualService edits alone leaves CDS and EDS alone.
   */
  static Set<String> typesChanged(PushRequest request) {
    boolean virtualServicesOnly =
        request.services().isEmpty()
            && request.endpoints().isEmpty()
            && !request.configs().isEmpty()
            && request.configs().stream().allMatch(key -> key.kind() == IstioKind.VIRTUAL_SERVICE);
    return virtualServicesOnly ? VIRTUAL_SERVICE_TYPES : Set.of();
  }

  @Override
  public void accept(SnapshotUpdate update) {
    server.setReady(true);
    PushRequest request = update.request();
    String reason = String.join(", ", request.reasons());
    if (request.full()) {
      server.push(
          PushScope.types(typesChanged(request), reason, request.startNanos())
              .withSnapshot(update.snapshot()));
      return;
    }
    Set<String> clusters = new HashSet<>();
    for (String host : request.endpoints()) {
      MeshService service = update.snapshot().service(host).orElse(null);
      if (service == null) {
        continue;
      }
      Set<String> subsets = update.snapshot().config().subsetNames(host);
      for (ServicePort port : service.ports()) {
        clusters.add(EnvoyNames.outboundCluster(port.port(), "", host));
        for (String subset : subsets) {
          clusters.add(EnvoyNames.outboundCluster(port.port(), subset, host));
        }
      }
    }
    server.push(
        PushScope.types(Set.of(XdsTypes.ENDPOINT), reason, request.startNanos())
            .onlyNames(XdsTypes.ENDPOINT, clusters)
            .withSnapshot(update.snapshot()));
  }
}
