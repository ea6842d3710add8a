package dev.bosun.xds;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory generator for protocol tests: the same resources for every proxy, set by the test.
 */
final class FakeResources implements XdsGenerator {
  private final Map<String, Map<String, Message>> byType = new ConcurrentHashMap<>();
  final AtomicInteger generations = new AtomicInteger();

  void put(String type, Message message) {
    byType.computeIfAbsent(type, t -> new ConcurrentHashMap<>()).put(name(message), message);
  }

  void remove(String type, String name) {
    byType.getOrDefault(type, new HashMap<>()).remove(name);
  }

  @Override
  public Map<String, ? extends Message> generate(
      XdsProxy proxy, String typeUrl, Set<String> names) {
    generations.incrementAndGet();
    Map<String, Message> all = byType.getOrDefault(typeUrl, Map.of());
    Map<String, Message> result = new TreeMap<>();
    all.forEach(
        (name, message) -> {
          if (names.isEmpty() || names.contains(name)) {
            result.put(name, message);
          }
        });
    return result;
  }

  static Cluster cluster(String name, int connectTimeoutSeconds) {
    return Cluster.newBuilder()
        .setName(name)
        .setConnectTimeout(
            com.google.protobuf.Duration.newBuilder().setSeconds(connectTimeoutSeconds))
        .build();
  }

  static ClusterLoadAssignment endpoints(String cluster, int weight) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .setPolicy(
            ClusterLoadAssignment.Policy.newBuilder()
                .setOverprovisioningFactor(com.google.protobuf.UInt32Value.of(weight)))
        .build();
  }

  static Listener listener(String name) {
    return Listener.newBuilder().setName(name).build();
  }

  static RouteConfiguration route(String name, String vhost) {
    return RouteConfiguration.newBuilder()
        .setName(name)
        .addVirtualHosts(
            io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder()
                .setName(vhost)
                .addDomains("*"))
        .build();
  }

  private static String name(Message message) {
    if (message instanceof Cluster c) {
      return c.getName();
    }
    if (message instanceof ClusterLoadAssignment c) {
      return c.getClusterName();
    }
    if (message instanceof Listener l) {
      return l.getName();
    }
    if (message instanceof RouteConfiguration r) {
      return r.getName();
    }
    throw new IllegalArgumentException(message.getClass().getName());
  }
}
