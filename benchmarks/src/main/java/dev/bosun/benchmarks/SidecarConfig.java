package dev.bosun.benchmarks;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * One Envoy sidecar's whole config as Envoy asks for it: every cluster, the endpoints of every EDS
 * cluster, every listener, and the route configuration of every HTTP port.
 */
final class SidecarConfig {
  private SidecarConfig() {}

  /**
   * @param edsSubscription the EDS names the sidecar subscribes to, given its clusters (a benchmark
   *     may share equal subscriptions, as the xDS server does)
   */
  static List<Message> generate(
      SidecarGenerator generator,
      MeshSnapshot snapshot,
      ProxyView proxy,
      Function<Map<String, Message>, Set<String>> edsSubscription) {
    Map<String, Message> clusters = generator.clusters(snapshot, proxy).resources();
    Set<String> eds = edsSubscription.apply(clusters);
    Map<String, Message> listeners = generator.listeners(snapshot, proxy).resources();
    Set<String> routes = new TreeSet<>();
    listeners.keySet().stream()
        .filter(n -> n.startsWith("0.0.0.0_"))
        .forEach(n -> routes.add(n.substring("0.0.0.0_".length())));
    List<Message> all = new ArrayList<>(clusters.values());
    all.addAll(generator.endpoints(snapshot, proxy, eds).resources().values());
    all.addAll(listeners.values());
    all.addAll(generator.routes(snapshot, proxy, routes).resources().values());
    return all;
  }

  /** The names of the EDS clusters among {@code clusters}. */
  static Set<String> edsClusters(Map<String, Message> clusters) {
    Set<String> names = new LinkedHashSet<>();
    clusters.forEach(
        (name, cluster) -> {
          if (((Cluster) cluster).getType() == Cluster.DiscoveryType.EDS) {
            names.add(name);
          }
        });
    return names;
  }
}
