package dev.bosun.xds;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** The xDS resource type URLs, the order pushes follow, and their short names for metrics. */
public final class XdsTypes {
  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";

  /** Extension config discovery (ECDS); Bosun sends none yet, proxies may still ask. */
  public static final String EXTENSION_CONFIG =
      "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";

  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  public static final String SECRET =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  /**
   * Make before break: clusters, then their endpoints, then the listeners that use them, then
   * routes; anything else last.
   */
  public static final List<String> PUSH_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET);

  private static final Map<String, String> SHORT =
      Map.of(
          CLUSTER, "cds",
          ENDPOINT, "eds",
          LISTENER, "lds",
          ROUTE, "rds",
          SECRET, "sds",
          EXTENSION_CONFIG, "ecds");

  private XdsTypes() {}

  /**
   * {@code cds}, {@code eds}, {@code lds}, {@code rds}, {@code sds}, {@code ecds}, else the type's
   * message name.
   */
  public static String shortName(String typeUrl) {
    String name = SHORT.get(typeUrl);
    if (name != null) {
      return name;
    }
    int dot = typeUrl.lastIndexOf('.');
    return dot < 0 ? typeUrl : typeUrl.substring(dot + 1);
  }

  /**
   * Types whose state-of-the-world responses must carry every resource (a missing one is a
   * removal): Listener and Cluster. Other types may carry only what changed.
   */
  public static boolean isFullState(String typeUrl) {
    return CLUSTER.equals(typeUrl) || LISTENER.equals(typeUrl);
  }

  /** {@code types} in push order; unknown types after the known ones, in their given order. */
  public static List<String> ordered(Collection<String> types) {
    List<String> ordered = new ArrayList<>();
    for (String type : PUSH_ORDER) {
      if (types.contains(type)) {
        ordered.add(type);
      }
    }
    for (String type : types) {
      if (!PUSH_ORDER.contains(type)) {
        ordered.add(type);
      }
    }
    return ordered;
  }
}
