package dev.bosun.controlplane.xds.envoy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;

/**
 * The network filters of Envoy sidecar filter chains: the HTTP connection manager and the TCP
 * proxy.
 */
public final class EnvoyFilters {
  /** The HTTP fault filter, which routes configure per route. */
  public static final String FAULT_FILTER = "envoy.filters.http.fault";

  private EnvoyFilters() {}

  /**
   * An HTTP connection manager with Istio's sidecar HTTP filters, its routes set by {@code routes}.
   */
  public static Filter httpConnectionManager(
      String statPrefix, java.util.function.Consumer<HttpConnectionManager.Builder> routes) {
    return httpConnectionManager(statPrefix, List.of(), routes);
  }

  /** An HTTP connection manager whose first filters are {@code authorization} (RBAC, inbound). */
  public static Filter httpConnectionManager(
      String statPrefix,
      List<HttpFilter> authorization,
      java.util.function.Consumer<HttpConnectionManager.Builder> routes) {
    HttpConnectionManager.Builder manager =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(statPrefix)
            .addAllHttpFilters(authorization)
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(EnvoyRouteActions.CORS_FILTER)
                    .setTypedConfig(
                        Any.pack(
                            io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors
                                .getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(FAULT_FILTER)
                    .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())));
    routes.accept(manager);
    return Filter.newBuilder()
        .setName("envoy.filters.network.http_connection_manager")
        .setTypedConfig(Any.pack(manager.build()))
        .build();
  }

  /** A TCP proxy to one cluster. */
  public static Filter tcpProxy(String statPrefix, String cluster) {
    return Filter.newBuilder()
        .setName("envoy.filters.network.tcp_proxy")
        .setTypedConfig(
            Any.pack(TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster).build()))
        .build();
  }
}
