package dev.bosun.controlplane.xds.proxyless;

import com.google.protobuf.Any;
import dev.bosun.controlplane.model.IstioLabels;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.envoy.GrpcTlsBuilder;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy.Mode;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Listeners for proxyless gRPC servers (grpc-java's {@code XdsServerBuilder}, gRFC A36). Such a
 * server asks for {@code xds.istio.io/grpc/lds/inbound/<ip>:<port>} (its bootstrap's {@code
 * server_listener_resource_name_template}) and gets that listener: one filter chain whose HTTP
 * connection manager routes everything to the server itself ({@code non_forwarding_action}), over
 * mTLS or plaintext as the workload's PeerAuthentication says for the port.
 *
 * <p>grpc-xds cannot tell TLS from plaintext on one port, so PERMISSIVE is served as plaintext, as
 * istiod does; but a workload labelled {@code security.istio.io/tlsMode: istio} gets STRICT
 * instead, since clients' auto mTLS will connect to it with mTLS.
 */
public final class ProxylessServerListeners {

  private ProxylessServerListeners() {}

  /**
   * The workload behind a server listener: its namespace and labels, the port it listens on and the
   * mTLS mode the listener enforces (STRICT or DISABLE).
   */
  record ServerWorkload(String namespace, Map<String, String> labels, int port, Mode mode) {
    ServerWorkload {
      labels = Map.copyOf(labels);
    }
  }

  /** Whether {@code name} is a server listener name. */
  static boolean isServerListener(String name) {
    return name.startsWith(EnvoyNames.GRPC_SERVER_LISTENER_PREFIX);
  }

  /**
   * The listener named {@code name}; empty when the name does not end in {@code <ip>:<port>}. The
   * workload is the proxy's: its namespace, its labels from the node metadata, else those of the
   * endpoint at one of its addresses. No Service is needed: PeerAuthentication selects workloads.
   */
  static Optional<Listener> listener(
      MeshSnapshot snapshot, ProxyView proxy, String name, String trustDomain, Warnings warnings) {
    String hostPort = name.substring(EnvoyNames.GRPC_SERVER_LISTENER_PREFIX.length());
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    if (port < 1 || port > 65535 || host.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> labels = PeerAuthenticationPolicy.workloadLabels(snapshot, proxy);
    Mode mode =
        serverMode(
            PeerAuthenticationPolicy.of(snapshot.config(), proxy.namespace(), labels).forPort(port),
            labels);
    ServerWorkload workload = new ServerWorkload(proxy.namespace(), labels, port, mode);
    return Optional.of(
        Listener.newBuilder()
            .setName(name)
            .setAddress(
                Address.newBuilder()
                    .setSocketAddress(
                        SocketAddress.newBuilder().setAddress(host).setPortValue(port)))
            .setTrafficDirection(TrafficDirection.INBOUND)
            .addFilterChains(
                chain(snapshot, workload, trustDomain, "inbound_" + host + "_" + port, warnings))
            .build());
  }

  /** What a proxyless server enforces for a PeerAuthentication mode: STRICT or DISABLE. */
  static Mode serverMode(Mode mode, Map<String, String> labels) {
    if (mode == Mode.PERMISSIVE) {
      return IstioLabels.istioMutualTls(labels) ? Mode.STRICT : Mode.DISABLE;
    }
    return mode;
  }

  /**
   * The HTTP filters a request to this server passes before the router, in order: the RBAC filters
   * of the AuthorizationPolicies that select the workload (DENY, then ALLOW).
   */
  static List<HttpFilter> authorizationFilters(
      MeshSnapshot snapshot, ServerWorkload workload, String trustDomain, Warnings warnings) {
    return AuthorizationFilters.httpFilters(
        snapshot
            .config()
            .policies(IstioKind.AUTHORIZATION_POLICY, workload.namespace(), workload.labels()),
        trustDomain,
        true,
        warnings);
  }

  private static FilterChain chain(
      MeshSnapshot snapshot,
      ServerWorkload workload,
      String trustDomain,
      String statPrefix,
      Warnings warnings) {
    HttpConnectionManager manager =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(statPrefix)
            .setRouteConfig(
                RouteConfiguration.newBuilder()
                    .setName("inbound")
                    .addVirtualHosts(
                        VirtualHost.newBuilder()
                            .setName("inbound")
                            .addDomains("*")
                            .addRoutes(
                                Route.newBuilder()
                                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                    .setNonForwardingAction(
                                        NonForwardingAction.getDefaultInstance()))))
            .addAllHttpFilters(authorizationFilters(snapshot, workload, trustDomain, warnings))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    boolean mtls = workload.mode() == Mode.STRICT;
    FilterChain.Builder chain =
        FilterChain.newBuilder()
            .setName(mtls ? "inbound-mtls" : "inbound-plaintext")
            .addFilters(
                Filter.newBuilder()
                    .setName("envoy.filters.network.http_connection_manager")
                    .setTypedConfig(Any.pack(manager)));
    if (mtls) {
      chain.setTransportSocket(EnvoyTlsBuilder.tlsSocket(GrpcTlsBuilder.server()));
    }
    return chain.build();
  }
}
