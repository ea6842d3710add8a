package dev.bosun.benchmarks;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decoding of xDS resources for the simulated sidecars: only the fields an Envoy-like client needs
 * (names, EDS service names, RDS names, one virtual host), and the decoded route names of a
 * listener shared, since most sidecars are sent byte-identical listeners.
 */
final class ResponseDecoding {
  private static final String HCM = "envoy.filters.network.http_connection_manager";

  private ResponseDecoding() {}

  static final Map<ByteString, Set<String>> ROUTE_NAMES = new ConcurrentHashMap<>();

  /** Field 1 of a message when it is a string (a Cluster's, assignment's or config's name). */
  static String firstString(ByteString message) {
    try {
      CodedInputStream in = message.newCodedInput();
      int tag = in.readTag();
      return tag == (1 << 3 | 2) ? in.readStringRequireUtf8() : "";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A Cluster's name and, when its type is EDS, the name Envoy subscribes to (its
   * eds_cluster_config.service_name, else its name); the second element is null otherwise.
   */
  static String[] edsName(ByteString cluster) {
    try {
      CodedInputStream in = cluster.newCodedInput();
      String name = "";
      boolean eds = false;
      String serviceName = "";
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = tag >>> 3;
        if (field == 1) {
          name = in.readStringRequireUtf8();
        } else if (field == 2) {
          eds = in.readEnum() == 3;
        } else if (field == 3) {
          CodedInputStream config = in.readBytes().newCodedInput();
          for (int t = config.readTag(); t != 0; t = config.readTag()) {
            if (t >>> 3 == 2) {
              serviceName = config.readStringRequireUtf8();
            } else {
              config.skipField(t);
            }
          }
        } else if (field > 3) {
          break;
        } else {
          in.skipField(tag);
        }
      }
      return new String[] {name, eds ? (serviceName.isEmpty() ? name : serviceName) : null};
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The RDS names of a listener's HTTP connection managers. */
  static Set<String> routeNames(ByteString listener) {
    return ROUTE_NAMES.computeIfAbsent(
        listener,
        bytes -> {
          try {
            Set<String> names = new HashSet<>();
            for (FilterChain chain : Listener.parseFrom(bytes).getFilterChainsList()) {
              for (Filter filter : chain.getFiltersList()) {
                if (HCM.equals(filter.getName()) && filter.hasTypedConfig()) {
                  HttpConnectionManager hcm =
                      filter.getTypedConfig().unpack(HttpConnectionManager.class);
                  if (hcm.hasRds()) {
                    names.add(hcm.getRds().getRouteConfigName());
                  }
                }
              }
            }
            return Set.copyOf(names);
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /**
   * Walks the virtual hosts (field 2) of a route configuration without decoding them, and decodes
   * only the one whose domains (field 2 of a virtual host) name {@code host}.
   */
  static boolean hasWeight(ByteString config, String host, int weight) {
    try {
      CodedInputStream in = config.newCodedInput();
      in.enableAliasing(true);
      String v1 = "outbound|8080|v1|" + host;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag != (2 << 3 | 2)) {
          in.skipField(tag);
          continue;
        }
        ByteString virtualHost = in.readBytes();
        if (!hasDomain(virtualHost, host)) {
          continue;
        }
        for (Route route : VirtualHost.parseFrom(virtualHost).getRoutesList()) {
          for (WeightedCluster.ClusterWeight cluster :
              route.getRoute().getWeightedClusters().getClustersList()) {
            if (cluster.getName().equals(v1) && cluster.getWeight().getValue() == weight) {
              return true;
            }
          }
        }
        return false;
      }
      return false;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean hasDomain(ByteString virtualHost, String host) throws IOException {
    CodedInputStream in = virtualHost.newCodedInput();
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (2 << 3 | 2)) {
        if (in.readStringRequireUtf8().equals(host)) {
          return true;
        }
      } else {
        in.skipField(tag);
      }
    }
    return false;
  }
}
