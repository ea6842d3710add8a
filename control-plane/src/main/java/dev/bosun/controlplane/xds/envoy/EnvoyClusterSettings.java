package dev.bosun.controlplane.xds.envoy;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.UpstreamConnectionOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettingsHTTPSettingsH2UpgradePolicy;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHash;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLB;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBHttpCookie;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBHttpQueryParameterName;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBMaglev;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBUseSourceIp;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsSimple;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import java.util.Optional;

/**
 * DestinationRule settings only Envoy implements: random and passthrough load balancing, Maglev,
 * connect timeout, TCP keepalive, HTTP idle timeout and requests per connection, HTTP/2 upgrade,
 * and the cookie, source IP and query parameter hash keys.
 */
public final class EnvoyClusterSettings {
  private EnvoyClusterSettings() {}

  /**
   * Whether the cluster speaks HTTP/2 upstream: an HTTP/2 or gRPC port, or {@code h2UpgradePolicy:
   * UPGRADE}.
   */
  public static boolean http2(TrafficPolicy traffic, boolean http2Port) {
    return http2Port
        || (traffic != null
            && traffic.getConnectionPool() != null
            && traffic.getConnectionPool().getHttp() != null
            && traffic.getConnectionPool().getHttp().getH2UpgradePolicy()
                == ConnectionPoolSettingsHTTPSettingsH2UpgradePolicy.UPGRADE);
  }

  /** Applied after the settings grpc-xds shares; {@code http2} for HTTP/2 and gRPC ports. */
  public static void apply(Cluster.Builder cluster, TrafficPolicy traffic, boolean http2) {
    boolean upgrade = http2(traffic, http2);
    HttpProtocolOptions.Builder common = null;
    if (traffic != null) {
      if (traffic.getLoadBalancer() != null) {
        Object policy = traffic.getLoadBalancer().getLbPolicy();
        if (policy instanceof LoadBalancerSettingsSimple simple && simple.getSimple() != null) {
          switch (simple.getSimple()) {
            case RANDOM -> cluster.setLbPolicy(Cluster.LbPolicy.RANDOM);
            case PASSTHROUGH ->
                cluster
                    .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                    .clearEdsClusterConfig()
                    .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
            default -> {}
          }
        } else if (policy instanceof LoadBalancerSettingsConsistentHash hash
            && hash.getConsistentHash() != null) {
          LoadBalancerSettingsConsistentHashLB lb = hash.getConsistentHash();
          if (lb.getHashAlgorithm() instanceof LoadBalancerSettingsConsistentHashLBMaglev) {
            cluster.setLbPolicy(Cluster.LbPolicy.MAGLEV);
          } else if (lb.getMinimumRingSize() != null) {
            cluster.setRingHashLbConfig(
                Cluster.RingHashLbConfig.newBuilder()
                    .setMinimumRingSize(
                        com.google.protobuf.UInt64Value.of(lb.getMinimumRingSize())));
          }
        }
      }
      ConnectionPoolSettings pool = traffic.getConnectionPool();
      if (pool != null && pool.getTcp() != null) {
        ProtoDurations.of(pool.getTcp().getConnectTimeout()).ifPresent(cluster::setConnectTimeout);
        if (pool.getTcp().getTcpKeepalive() != null) {
          TcpKeepalive.Builder keepalive = TcpKeepalive.newBuilder();
          var source = pool.getTcp().getTcpKeepalive();
          if (source.getProbes() != null) {
            keepalive.setKeepaliveProbes(UInt32Value.of(source.getProbes().intValue()));
          }
          ProtoDurations.of(source.getTime())
              .ifPresent(
                  d ->
                      keepalive.setKeepaliveTime(
                          UInt32Value.of((int) Math.max(1, d.getSeconds()))));
          ProtoDurations.of(source.getInterval())
              .ifPresent(
                  d ->
                      keepalive.setKeepaliveInterval(
                          UInt32Value.of((int) Math.max(1, d.getSeconds()))));
          cluster.setUpstreamConnectionOptions(
              UpstreamConnectionOptions.newBuilder().setTcpKeepalive(keepalive));
        }
      }
      if (pool != null && pool.getHttp() != null) {
        var http = pool.getHttp();
        if (http.getIdleTimeout() != null || http.getMaxRequestsPerConnection() != null) {
          common = HttpProtocolOptions.newBuilder();
          ProtoDurations.of(http.getIdleTimeout()).ifPresent(common::setIdleTimeout);
          if (http.getMaxRequestsPerConnection() != null
              && http.getMaxRequestsPerConnection() > 0) {
            common.setMaxRequestsPerConnection(UInt32Value.of(http.getMaxRequestsPerConnection()));
          }
        }
      }
    }
    if (upgrade || common != null) {
      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.Builder options =
          io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder();
      if (upgrade) {
        options.setExplicitHttpConfig(
            ExplicitHttpConfig.newBuilder()
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()));
      } else {
        options.setUseDownstreamProtocolConfig(
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                .UseDownstreamHttpConfig.getDefaultInstance());
      }
      if (common != null) {
        options.setCommonHttpProtocolOptions(common);
      }
      cluster.putTypedExtensionProtocolOptions(
          "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(options.build()));
    }
  }

  /** Hash keys beyond a header: a cookie, the source IP, a query parameter. */
  public static Optional<RouteAction.HashPolicy> hashPolicy(TrafficPolicy traffic) {
    if (traffic == null
        || traffic.getLoadBalancer() == null
        || !(traffic.getLoadBalancer().getLbPolicy()
            instanceof LoadBalancerSettingsConsistentHash hash)
        || hash.getConsistentHash() == null) {
      return Optional.empty();
    }
    Object key = hash.getConsistentHash().getHashKey();
    if (key instanceof LoadBalancerSettingsConsistentHashLBHttpCookie cookie
        && cookie.getHttpCookie() != null) {
      RouteAction.HashPolicy.Cookie.Builder built =
          RouteAction.HashPolicy.Cookie.newBuilder().setName(cookie.getHttpCookie().getName());
      if (cookie.getHttpCookie().getPath() != null) {
        built.setPath(cookie.getHttpCookie().getPath());
      }
      ProtoDurations.of(cookie.getHttpCookie().getTtl()).ifPresent(built::setTtl);
      return Optional.of(RouteAction.HashPolicy.newBuilder().setCookie(built).build());
    }
    if (key instanceof LoadBalancerSettingsConsistentHashLBUseSourceIp source
        && Boolean.TRUE.equals(source.getUseSourceIp())) {
      return Optional.of(
          RouteAction.HashPolicy.newBuilder()
              .setConnectionProperties(
                  RouteAction.HashPolicy.ConnectionProperties.newBuilder().setSourceIp(true))
              .build());
    }
    if (key instanceof LoadBalancerSettingsConsistentHashLBHttpQueryParameterName query) {
      return Optional.of(
          RouteAction.HashPolicy.newBuilder()
              .setQueryParameter(
                  RouteAction.HashPolicy.QueryParameter.newBuilder()
                      .setName(query.getHttpQueryParameterName()))
              .build());
    }
    return Optional.empty();
  }
}
