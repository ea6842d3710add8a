package dev.bosun.benchmarks;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;

/** One resource of a response, as bytes, decoded only as far as a check needs. */
record SentResource(ByteString value) {
  /** Whether this is the named ClusterLoadAssignment and it holds {@code address}. */
  boolean cluster(String cluster, String address) {
    return Boolean.TRUE.equals(holds(cluster, address));
  }

  /** Whether this is the named ClusterLoadAssignment and it lacks {@code address}. */
  boolean clusterWithout(String cluster, String address) {
    return Boolean.FALSE.equals(holds(cluster, address));
  }

  /** Whether the named assignment holds {@code address}; null when this is another resource. */
  private Boolean holds(String cluster, String address) {
    if (!cluster.equals(ResponseDecoding.firstString(value))) {
      return null;
    }
    try {
      ClusterLoadAssignment assignment = ClusterLoadAssignment.parseFrom(value);
      for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
        for (LbEndpoint endpoint : locality.getLbEndpointsList()) {
          if (endpoint.getEndpoint().getAddress().getSocketAddress().getAddress().equals(address)) {
            return true;
          }
        }
      }
      return false;
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether route configuration {@code route} sends {@code weight}% of {@code host} to v1. */
  boolean weight(String route, String host, int weight) {
    if (!route.equals(ResponseDecoding.firstString(value))) {
      return false;
    }
    return ResponseDecoding.hasWeight(value, host, weight);
  }
}
