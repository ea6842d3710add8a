package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyAccessLogs;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.gateway.GatewayServers.GatewayServer;
import dev.bosun.controlplane.xds.gateway.GatewayServers.ListenerServers;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.controlplane.xds.policy.ExtAuthzProviders;
import dev.bosun.controlplane.xds.policy.JwtFilters;
import dev.bosun.controlplane.xds.policy.PeerAuthenticationPolicy;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gateway LDS: one listener per port the gateway listens on ({@code <bind>_<port>}, {@code
 * 0.0.0.0_8080} for port 80 of the stock ingress gateway), with the gateway HTTP connection manager
 * (the client's address is the remote one; client certificate details sanitized and set): one chain
 * for the plain HTTP servers of the port, and one per terminated HTTPS server, matched by SNI and
 * terminating TLS with the server's certificate ({@link GatewayTls}). Servers Bosun does not
 * translate yet (TCP, TLS, passthrough) are left out with a warning.
 */
public final class GatewayListeners implements TypeGenerator {
  /** How long a TLS handshake on a gateway may take (istiod's fixed 15 s). */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.newBuilder().setSeconds(15).build();

  /** istiod's RDS source for gateways: ADS, v3, and no initial fetch timeout (wait for routes). */
  private static final io.envoyproxy.envoy.config.core.v3.ConfigSource RDS_SOURCE =
      EnvoyAddresses.ADS_V3.toBuilder()
          .setInitialFetchTimeout(Duration.getDefaultInstance())
          .build();

  private final GatewayTcpChains tcp;
  private final String domainSuffix;
  private final String trustDomain;

  public GatewayListeners(String domainSuffix, String trustDomain) {
    this.tcp = new GatewayTcpChains(new HttpRoutes(domainSuffix, true));
    this.domainSuffix = domainSuffix;
    this.trustDomain = trustDomain;
  }

  @Override
  public String typeUrl() {
    return XdsTypes.LISTENER;
  }

  /**
   * Listeners read the Gateways and services (which concern everyone) and, for gateways with TCP,
   * TLS or passthrough servers, the VirtualServices' tcp and tls routes; HTTP routing never changes
   * them.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    if (change.everything()) {
      return true;
    }
    GatewayServers servers = GatewayServers.of(change.snapshot(), proxy);
    return change.appliesIn(IstioKind.AUTHORIZATION_POLICY, proxy.namespace())
        || change.appliesIn(IstioKind.REQUEST_AUTHENTICATION, proxy.namespace())
        || (change.touches(IstioKind.VIRTUAL_SERVICE) && servers.forwardsTcp())
        // AUTO_PASSTHROUGH has a chain per DestinationRule subset.
        || (change.touches(IstioKind.DESTINATION_RULE) && servers.autoPassthrough())
        // The ports listened on follow the gateway Service's endpoints (its targetPorts).
        || change.serviceTargetsChanged(proxy);
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    GatewayServers servers = GatewayServers.of(snapshot, proxy);
    GatewayTopology topology = GatewayTopology.of(snapshot, proxy);
    Warnings warnings = new Warnings();
    List<HttpFilter> authentication = authentication(snapshot, proxy, warnings);
    Map<String, Message> listeners =
        warnings.derived(
            snapshot,
            List.of("gateway-lds", domainSuffix, servers, topology, authentication),
            own ->
                java.util.Collections.unmodifiableMap(
                    listeners(snapshot, proxy, servers, topology, authentication, own)));
    return Generated.of(listeners, warnings).named(names);
  }

  /**
   * The HTTP filters that authenticate and authorize requests on the gateway's HTTP chains, as on a
   * sidecar's inbound ones: CUSTOM checks, the JWT filter of the RequestAuthentications selecting
   * the gateway's pods, then the RBAC filters of its AuthorizationPolicies. A gateway's routes may
   * match on a token's claims, so the JWT filter clears the route cache, as istiod has it.
   */
  private List<HttpFilter> authentication(
      MeshSnapshot snapshot, ProxyView proxy, Warnings warnings) {
    Map<String, String> labels = PeerAuthenticationPolicy.workloadLabels(snapshot, proxy);
    return AuthorizationFilters.httpFilters(
        snapshot.config().policies(IstioKind.AUTHORIZATION_POLICY, proxy.namespace(), labels),
        trustDomain,
        ExtAuthzProviders.of(snapshot),
        JwtFilters.filter(
            snapshot.config().policies(IstioKind.REQUEST_AUTHENTICATION, proxy.namespace(), labels),
            snapshot.jwks(),
            true,
            warnings),
        warnings);
  }

  private Map<String, Message> listeners(
      MeshSnapshot snapshot,
      ProxyView proxy,
      GatewayServers servers,
      GatewayTopology topology,
      List<HttpFilter> authentication,
      Warnings warnings) {
    servers.warnings().forEach(warnings);
    Map<String, Message> listeners = new TreeMap<>();
    for (ListenerServers port : servers.listeners()) {
      String bind = port.bind().isEmpty() ? "0.0.0.0" : port.bind();

      String name = bind + "_" + port.port();
      Listener.Builder listener =
          Listener.newBuilder()
              .setName(name)
              .setAddress(address(bind, port.port()))
              .setTrafficDirection(TrafficDirection.OUTBOUND)
              .setMaxConnectionsToAcceptPerSocketEvent(UInt32Value.of(1));
      boolean plainHttpDone = false;
      boolean inspectTls = false;
      java.util.Set<String> knownSni = new java.util.HashSet<>();
      // Envoy refuses a listener with two chains of one match: each SNI (or none) once.
      java.util.Set<String> matched = new java.util.HashSet<>();
      for (GatewayServer server : port.servers()) {
        if (server.protocol().isHttp()) {
          if (!plainHttpDone) {
            add(
                listener,
                FilterChain.newBuilder()
                    .addFilters(
                        gatewayManager(
                            "outbound_" + name + ";",
                            server.routeName(),
                            topology,
                            authentication,
                            server.protocol() == dev.bosun.controlplane.model.Protocol.GRPC_WEB))
                    .setTransportSocketConnectTimeout(HANDSHAKE_TIMEOUT)
                    .build(),
                matched,
                server,
                warnings);
            plainHttpDone = true;
          }
        } else if (server.terminatesHttps()) {
          java.util.Optional<
                  io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext>
              tls = GatewayTls.downstream(server, warnings);
          if (tls.isEmpty()) {
            continue;
          }
          String statPrefix =
              server.spec().getName() == null || server.spec().getName().isEmpty()
                  ? "outbound_" + name + ";"
                  : server.spec().getName();
          FilterChain.Builder chain =
              FilterChain.newBuilder()
                  .addFilters(
                      gatewayManager(
                          statPrefix, server.routeName(), topology, authentication, false))
                  .setTransportSocket(EnvoyTlsBuilder.tlsSocket(tls.get()))
                  .setTransportSocketConnectTimeout(HANDSHAKE_TIMEOUT);
          List<String> sni = server.sniHosts();
          if (!sni.contains("*")) {
            chain.setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(sni));
          }
          inspectTls |= add(listener, chain.build(), matched, server, warnings);
          knownSni.addAll(sni);
        } else if (server.protocol() == dev.bosun.controlplane.model.Protocol.UDP) {
          warnings.add(
              "{}: UDP gateway servers are not translated (Envoy gateways forward TCP); server"
                  + " left out",
              server.where());
        } else {
          GatewayTcpChains.Chains chains = tcp.chains(snapshot, proxy, server, knownSni, warnings);
          boolean added = false;
          for (FilterChain chain : chains.chains()) {
            added |= add(listener, chain, matched, server, warnings);
          }
          inspectTls |= added && chains.sni();
        }
      }
      if (listener.getFilterChainsCount() == 0) {
        continue;
      }
      if (topology.proxyProtocol()) {
        listener.addListenerFilters(
            ListenerFilter.newBuilder()
                .setName("envoy.filters.listener.proxy_protocol")
                .setTypedConfig(
                    Any.pack(
                        io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3
                            .ProxyProtocol.getDefaultInstance())));
      }
      if (inspectTls) {
        listener.addListenerFilters(
            ListenerFilter.newBuilder()
                .setName("envoy.filters.listener.tls_inspector")
                .setTypedConfig(
                    Any.pack(
                        TlsInspector.newBuilder()
                            .setInitialReadBufferSize(UInt32Value.of(512))
                            .build())));
      }
      listeners.put(
          name,
          EnvoyAccessLogs.withListenerLogs(
              EnvoyAccessLogs.withLogs(listener.build(), EnvoyAccessLogs.of(snapshot)),
              EnvoyAccessLogs.listenerLogs(snapshot)));
    }
    return listeners;
  }

  /**
   * The listener's address: a socket, or with a {@code unix://} bind (port 0) the Unix socket at
   * that path, as istiod binds it.
   */
  private static io.envoyproxy.envoy.config.core.v3.Address address(String bind, int port) {
    if (bind.startsWith("unix://")) {
      return io.envoyproxy.envoy.config.core.v3.Address.newBuilder()
          .setPipe(
              io.envoyproxy.envoy.config.core.v3.Pipe.newBuilder()
                  .setPath(bind.substring("unix://".length())))
          .build();
    }
    return EnvoyAddresses.socket(bind, port);
  }

  /**
   * Adds {@code chain} unless a chain of the listener already matches one of its server names (or,
   * without server names, every connection), which would make Envoy refuse the whole listener;
   * returns whether it was added.
   */
  private static boolean add(
      Listener.Builder listener,
      FilterChain chain,
      java.util.Set<String> matched,
      GatewayServer server,
      Warnings warnings) {
    List<String> names =
        chain.getFilterChainMatch().getServerNamesCount() == 0
            ? List.of("")
            : chain.getFilterChainMatch().getServerNamesList();
    List<String> taken = names.stream().filter(matched::contains).toList();
    if (!taken.isEmpty()) {
      warnings.add(
          "{}: left out of listener {}: another server already takes {}",
          server.where(),
          listener.getName(),
          taken.contains("") ? "every connection (no SNI match)" : "SNI " + taken);
      return false;
    }
    matched.addAll(names);
    listener.addFilterChains(chain);
    return true;
  }

  /**
   * Istio's gateway HTTP connection manager, routes from RDS {@code routeName}, trusting as many
   * forwarding proxies and handling client certificate details as {@code topology} says.
   */
  private static io.envoyproxy.envoy.config.listener.v3.Filter gatewayManager(
      String statPrefix,
      String routeName,
      GatewayTopology topology,
      List<HttpFilter> authentication,
      boolean grpcWeb) {
    List<HttpFilter> first = new ArrayList<>(authentication);
    if (grpcWeb) {
      // gRPC-Web servers translate browsers' gRPC-Web to gRPC after authorization, as istiod's do.
      first.add(
          HttpFilter.newBuilder()
              .setName("envoy.filters.http.grpc_web")
              .setTypedConfig(
                  Any.pack(
                      io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb
                          .getDefaultInstance()))
              .build());
    }
    return EnvoyFilters.httpConnectionManager(
        statPrefix,
        first,
        manager -> {
          manager
              .setXffNumTrustedHops(topology.numTrustedProxies())
              .setForwardClientCertDetails(topology.forwardClientCertDetails());
          if (topology.setsClientCertDetails()) {
            manager.setSetCurrentClientCertDetails(
                HttpConnectionManager.SetCurrentClientCertDetails.newBuilder()
                    .setSubject(BoolValue.of(true))
                    .setCert(true)
                    .setDns(true)
                    .setUri(true));
          }
          manager
              .setRds(Rds.newBuilder().setRouteConfigName(routeName).setConfigSource(RDS_SOURCE))
              .setUseRemoteAddress(BoolValue.of(true))
              .setServerName("istio-envoy")
              .setServerHeaderTransformation(
                  HttpConnectionManager.ServerHeaderTransformation.OVERWRITE)
              .setNormalizePath(BoolValue.of(true))
              .setPathWithEscapedSlashesAction(
                  HttpConnectionManager.PathWithEscapedSlashesAction.KEEP_UNCHANGED)
              .addUpgradeConfigs(
                  HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
              .setStreamIdleTimeout(Duration.getDefaultInstance())
              .setHttpProtocolOptions(
                  io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance())
              .setProxy100Continue(true);
        });
  }
}
