package dev.bosun.controlplane.xds.sidecar;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.controlplane.xds.policy.ExtAuthzProviders;
import dev.bosun.controlplane.xds.policy.JwtFilters;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy.Mode;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sidecar's {@code virtualInbound} listener (15006), shaped by its workload's
 * PeerAuthentication as istiod shapes it. Per port the workload serves: DISABLE keeps one plaintext
 * chain; PERMISSIVE has an mTLS chain (transport {@code tls} and an Istio client ALPN, which the
 * TLS inspector detects) beside the plaintext one ({@code raw_buffer}); STRICT has only the mTLS
 * chain. Connections to other ports pass through to the workload: in plaintext unless the workload
 * is STRICT, over mTLS unless it is DISABLE; a port-level mode on a port no service declares gives
 * that port passthrough chains of its own, shaped by that mode as above. A plaintext connection to
 * a STRICT port finds no chain or one that refuses it. Every chain that reaches the workload
 * enforces its AuthorizationPolicies: HTTP chains with RBAC HTTP filters, all others with RBAC
 * network filters before the TCP proxy.
 */
public final class SidecarInbound {

  static final String NAME = "virtualInbound";
  static final int PORT = 15006;

  private static final String TLS = "tls";
  private static final String RAW_BUFFER = "raw_buffer";

  private SidecarInbound() {}

  static Listener listener(
      MeshSnapshot snapshot,
      ProxyView proxy,
      Map<Integer, ServicePort> inboundPorts,
      String trustDomain,
      Warnings warnings) {
    PeerAuthenticationPolicy policy = PeerAuthenticationPolicy.forProxy(snapshot, proxy);
    Map<String, String> labels = PeerAuthenticationPolicy.workloadLabels(snapshot, proxy);
    Authorization authorization =
        Authorization.of(
            snapshot,
            snapshot.config().policies(IstioKind.AUTHORIZATION_POLICY, proxy.namespace(), labels),
            snapshot.config().policies(IstioKind.REQUEST_AUTHENTICATION, proxy.namespace(), labels),
            trustDomain,
            inboundPorts.values().stream().anyMatch(p -> p.protocol().isHttp()),
            warnings);
    Listener.Builder inbound =
        Listener.newBuilder()
            .setName(NAME)
            .setAddress(
                Address.newBuilder()
                    .setSocketAddress(
                        SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(PORT)))
            .addListenerFilters(
                ListenerFilter.newBuilder()
                    .setName("envoy.filters.listener.original_dst")
                    .setTypedConfig(Any.pack(OriginalDst.getDefaultInstance())));
    boolean inspectTls = policy.mode() != Mode.DISABLE;
    boolean passthroughPlaintext = policy.mode() != Mode.STRICT;
    for (Map.Entry<Integer, ServicePort> port : inboundPorts.entrySet()) {
      Mode mode = policy.forPort(port.getKey());
      inspectTls |= mode != Mode.DISABLE;
      inbound.addAllFilterChains(
          portChains(
              port.getKey(),
              servicePort(port.getKey(), port.getValue(), authorization),
              mode,
              passthroughPlaintext));
    }
    // A port-level mode on a port no service declares still decides what reaches that port; with
    // the workload's own mode, the listener-wide passthrough chains already do what it says.
    for (Map.Entry<Integer, Mode> port : new TreeMap<>(policy.portModes()).entrySet()) {
      if (inboundPorts.containsKey(port.getKey()) || port.getValue() == policy.mode()) {
        continue;
      }
      inspectTls |= port.getValue() != Mode.DISABLE;
      inbound.addAllFilterChains(
          portChains(
              port.getKey(),
              passthroughPort(port.getKey(), authorization),
              port.getValue(),
              passthroughPlaintext));
    }
    if (policy.mode() != Mode.DISABLE) {
      inbound.addFilterChains(
          FilterChain.newBuilder()
              .setName(NAME + "-mtls")
              .setFilterChainMatch(tlsMatch(policy.mode()))
              .addAllFilters(passthrough(authorization))
              .setTransportSocket(
                  EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.istioMutualServer(true))));
    }
    if (policy.mode() != Mode.STRICT) {
      inbound.setDefaultFilterChain(
          FilterChain.newBuilder().addAllFilters(passthrough(authorization)));
    }
    if (inspectTls) {
      inbound.addListenerFilters(TcpRoutes.tlsInspector());
    }
    return inbound.build();
  }

  /**
   * The filters that authenticate requests and enforce the workload's AuthorizationPolicies: for
   * its HTTP ports CUSTOM checks, the JWT filter of its RequestAuthentications, then the RBAC HTTP
   * filters; for every other chain that reaches it, CUSTOM checks and RBAC network filters.
   */
  private record Authorization(List<HttpFilter> http, List<Filter> tcp) {
    static Authorization of(
        MeshSnapshot snapshot,
        List<ConfigEntry> policies,
        List<ConfigEntry> requestAuthentications,
        String trustDomain,
        boolean anyHttp,
        Warnings warnings) {
      ExtAuthzProviders providers = ExtAuthzProviders.of(snapshot);
      List<HttpFilter> http =
          anyHttp
              ? AuthorizationFilters.httpFilters(
                  policies,
                  trustDomain,
                  providers,
                  JwtFilters.filter(requestAuthentications, snapshot.jwks(), false, warnings),
                  warnings)
              : List.of();
      return new Authorization(
          http, AuthorizationFilters.networkFilters(policies, trustDomain, providers, warnings));
    }
  }

  /** The filters of a chain that passes connections through to the workload. */
  private static List<Filter> passthrough(Authorization authorization) {
    return tcp(NAME, SidecarClusters.INBOUND_PASSTHROUGH, authorization);
  }

  /** A TCP proxy to {@code cluster}, behind the network RBAC filters. */
  private static List<Filter> tcp(String statPrefix, String cluster, Authorization authorization) {
    List<Filter> filters = new ArrayList<>(authorization.tcp());
    filters.add(EnvoyFilters.tcpProxy(statPrefix, cluster));
    return filters;
  }

  /**
   * Where the chains of one port lead. {@code name} names the chains (with {@code -mtls} and {@code
   * -plaintext-refused} for those variants) and is the stat prefix of the one that refuses; {@code
   * tcp}: the mTLS chain offers the ALPN of Istio's TCP clients.
   */
  private record PortTarget(String name, List<Filter> filters, boolean tcp) {}

  /** A port a service declares: to its inbound cluster {@code inbound|<port>||}. */
  private static PortTarget servicePort(
      int port, ServicePort servicePort, Authorization authorization) {
    String cluster = "inbound|" + port + "||";
    return new PortTarget(
        cluster,
        filters(port, servicePort, cluster, authorization),
        !servicePort.protocol().isHttp());
  }

  /**
   * A port only the workload's PeerAuthentication names: its chains, {@code virtualInbound|<port>},
   * pass connections through to the workload as the listener-wide passthrough chains do.
   */
  private static PortTarget passthroughPort(int port, Authorization authorization) {
    return new PortTarget(NAME + "|" + port, passthrough(authorization), true);
  }

  /**
   * The chains of one port. {@code passthroughPlaintext}: the listener's default chain forwards
   * plaintext, so a STRICT port needs a chain that refuses it.
   */
  private static List<FilterChain> portChains(
      int port, PortTarget target, Mode mode, boolean passthroughPlaintext) {
    List<FilterChain> chains = new ArrayList<>();
    if (mode != Mode.DISABLE) {
      FilterChainMatch.Builder match = tlsMatch(mode).toBuilder().setDestinationPort(uint(port));
      chains.add(
          FilterChain.newBuilder()
              .setName(target.name() + "-mtls")
              .setFilterChainMatch(match)
              .addAllFilters(target.filters())
              .setTransportSocket(
                  EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.istioMutualServer(target.tcp())))
              .build());
    }
    if (mode != Mode.STRICT) {
      FilterChainMatch.Builder match = FilterChainMatch.newBuilder().setDestinationPort(uint(port));
      if (mode == Mode.PERMISSIVE) {
        match.setTransportProtocol(RAW_BUFFER);
      }
      chains.add(
          FilterChain.newBuilder()
              .setName(target.name())
              .setFilterChainMatch(match)
              .addAllFilters(target.filters())
              .build());
    } else if (passthroughPlaintext) {
      chains.add(
          FilterChain.newBuilder()
              .setName(target.name() + "-plaintext-refused")
              .setFilterChainMatch(
                  FilterChainMatch.newBuilder()
                      .setDestinationPort(uint(port))
                      .setTransportProtocol(RAW_BUFFER))
              .addFilters(EnvoyFilters.tcpProxy(target.name(), SidecarClusters.BLACKHOLE))
              .build());
    }
    return chains;
  }

  /**
   * TLS detected by the inspector; under PERMISSIVE only with an ALPN Istio clients send, so other
   * TLS (the application's own) is not terminated.
   */
  private static FilterChainMatch tlsMatch(Mode mode) {
    FilterChainMatch.Builder match = FilterChainMatch.newBuilder().setTransportProtocol(TLS);
    if (mode == Mode.PERMISSIVE) {
      match.addAllApplicationProtocols(EnvoyTlsBuilder.MESH_CLIENT_ALPNS);
    }
    return match.build();
  }

  /** An HTTP connection manager routing to the port's inbound cluster, or a TCP proxy to it. */
  private static List<Filter> filters(
      int port, ServicePort servicePort, String cluster, Authorization authorization) {
    if (!servicePort.protocol().isHttp()) {
      return tcp(cluster, cluster, authorization);
    }
    RouteConfiguration route =
        RouteConfiguration.newBuilder()
            .setName(cluster)
            .addVirtualHosts(
                VirtualHost.newBuilder()
                    .setName("inbound|http|" + port)
                    .addDomains("*")
                    .addRoutes(
                        Route.newBuilder()
                            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                            .setRoute(RouteAction.newBuilder().setCluster(cluster))))
            .build();
    return List.of(
        EnvoyFilters.httpConnectionManager(
            cluster, authorization.http(), manager -> manager.setRouteConfig(route)));
  }

  private static UInt32Value uint(int value) {
    return UInt32Value.of(value);
  }
}
