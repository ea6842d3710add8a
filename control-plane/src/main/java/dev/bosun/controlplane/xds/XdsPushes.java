package dev.bosun.controlplane.xds;

import dev.bosun.controlplane.mesh.MeshModel.SnapshotUpdate;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.scope.CarriedInbound;
import dev.bosun.controlplane.xds.scope.CarriedRoutes;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.xds.PushScope;
import dev.bosun.xds.XdsServer;
import dev.bosun.xds.XdsTypes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns each new snapshot into an xDS push. A full push reaches, per type, only the proxies whose
 * generator says the change concerns them ({@link TypeGenerator#concerns}): a VirtualService edit
 * only the listeners and routes of proxies that see its hosts, a DestinationRule edit the clusters,
 * endpoints and routes of those that see its host, a Sidecar edit its namespace, a workload policy
 * the listeners of its namespace. An endpoints-only push changes only EDS, and only the clusters
 * (with their subset clusters) of the hosts whose endpoints changed; a change of TLS Secrets only
 * the SDS of the gateways that use them. The first snapshot also opens the server to clients.
 */
public final class XdsPushes implements Consumer<SnapshotUpdate> {
  private final XdsServer server;
  private final MeshXdsGenerator generators;

  /** The snapshot of the last push: what a change is measured against. */
  private MeshSnapshot previous;

  public XdsPushes(XdsServer server, MeshXdsGenerator generators) {
    this.server = server;
    this.generators = generators;
  }

  /** The last push, for {@code /debug/push_status}. */
  private volatile Map<String, Object> last = Map.of("pushes", 0);

  private long pushes;

  /**
   * The last push as {@code /debug/push_status} shows it: its snapshot's version and time, whether
   * it was full, why it happened, what changed, the snapshot's conflicts, and how many pushes there
   * have been.
   */
  public Map<String, Object> status() {
    return last;
  }

  private void record(SnapshotUpdate update) {
    PushRequest request = update.request();
    Map<String, Object> status = new java.util.LinkedHashMap<>();
    status.put("pushes", ++pushes);
    status.put("version", update.snapshot().version());
    status.put("built", update.snapshot().built().toString());
    status.put("full", request.full());
    status.put("reasons", request.reasons());
    status.put("configs", request.configs().stream().map(Object::toString).sorted().toList());
    status.put("services", new java.util.TreeSet<>(request.services()));
    status.put("endpoints", new java.util.TreeSet<>(request.endpoints()));
    status.put("secrets", new java.util.TreeSet<>(request.secrets()));
    status.put("conflicts", update.snapshot().conflicts().stream().map(Object::toString).toList());
    last = java.util.Collections.unmodifiableMap(status);
  }

  @Override
  public void accept(SnapshotUpdate update) {
    server.setReady(true);
    record(update);
    PushRequest request = update.request();
    MeshChange change = MeshChange.of(request, previous, update.snapshot());
    CarriedRoutes.carryOver(previous, update.snapshot(), change);
    CarriedInbound.carryOver(previous, update.snapshot(), change);
    previous = update.snapshot();
    String reason = String.join(", ", request.reasons());
    if (request.full()) {
      server.push(
          PushScope.everything(reason, request.startNanos())
              .concerning((type, proxy) -> generators.concerns(change, proxy, type))
              .withSnapshot(update.snapshot()));
      return;
    }
    if (!request.secrets().isEmpty()) {
      // A changed TLS Secret reaches only the SDS of the gateways that use it.
      server.push(
          PushScope.types(Set.of(XdsTypes.SECRET), reason, request.startNanos())
              .concerning((type, proxy) -> generators.concerns(change, proxy, type))
              .withSnapshot(update.snapshot()));
    }
    if (request.endpoints().isEmpty()) {
      return;
    }
    // A gateway listens on its Service's targetPorts, read through the Service's endpoints: when
    // those change for one, its listeners and routes do.
    server.push(
        PushScope.types(Set.of(XdsTypes.LISTENER, XdsTypes.ROUTE), reason, request.startNanos())
            .concerning((type, proxy) -> generators.concerns(change, proxy, type))
            .withSnapshot(update.snapshot()));
    Set<String> clusters = new HashSet<>();
    for (String host : request.endpoints()) {
      MeshService service = update.snapshot().service(host).orElse(null);
      if (service == null) {
        continue;
      }
      Set<String> subsets = update.snapshot().config().subsetNames(host);
      for (ServicePort port : service.ports()) {
        List<String> all = new ArrayList<>(subsets);
        all.add("");
        for (String subset : all) {
          EnvoyNames.OutboundCluster cluster =
              new EnvoyNames.OutboundCluster(port.port(), subset, host);
          clusters.add(EnvoyNames.outboundCluster(port.port(), subset, host));
          // Gateways with AUTO_PASSTHROUGH servers know the cluster by its SNI too.
          clusters.add(EnvoyNames.outboundSni(cluster));
        }
      }
    }
    server.push(
        PushScope.types(Set.of(XdsTypes.ENDPOINT), reason, request.startNanos())
            .onlyNames(XdsTypes.ENDPOINT, clusters)
            .withSnapshot(update.snapshot()));
  }
}
