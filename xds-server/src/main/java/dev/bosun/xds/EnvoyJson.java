package dev.bosun.xds;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.util.List;

/**
 * Envoy resources as JSON, with the packed configs Bosun produces expanded (listeners' connection
 * managers, TCP proxies, RBAC, JWT and ext_authz filters, access logs, load-balancing policies,
 * their filters, TLS contexts and raw-buffer sockets, protocol options), for debug pages and golden
 * files.
 */
public final class EnvoyJson {
  private static final JsonFormat.TypeRegistry REGISTRY = registry();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().usingTypeRegistry(REGISTRY);

  private EnvoyJson() {}

  private static JsonFormat.TypeRegistry registry() {
    JsonFormat.TypeRegistry.Builder registry = JsonFormat.TypeRegistry.newBuilder();
    for (Descriptor descriptor :
        List.of(
            io.envoyproxy.envoy.config.cluster.v3.Cluster.getDescriptor(),
            io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.getDescriptor(),
            io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor(),
            io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                .HttpConnectionManager.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
                .PreviousPrioritiesConfig.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.getDescriptor(),
            io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor(),
            io.envoyproxy.envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.getDescriptor(),
            io.envoyproxy.envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality
                .getDescriptor(),
            io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())) {
      registry.add(descriptor);
    }
    return registry.build();
  }

  /** Pretty-printed JSON, fields in proto order, so the output is stable. */
  public static String print(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "cannot print " + message.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  static JsonFormat.Printer compactPrinter() {
    return PRINTER.omittingInsignificantWhitespace();
  }
}
