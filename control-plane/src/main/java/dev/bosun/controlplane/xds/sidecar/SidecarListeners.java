package dev.bosun.controlplane.xds.sidecar;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Message;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.MeshService.Resolution;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyAccessLogs;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.OutboundKey;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.SidecarScope;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.controlplane.xds.traffic.HttpRoutes;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sidecar LDS: {@code virtualOutbound} (15001), one outbound listener per HTTP port ({@code
 * 0.0.0.0_<port>}, routes from RDS {@code <port>}) or TCP service ({@code <ip>_<port>}), and {@code
 * virtualInbound} (15006) with chains per inbound port and mTLS mode ({@link SidecarInbound}).
 */
public final class SidecarListeners implements TypeGenerator {
  /** The listener outbound connections are redirected to (15001). */
  static final String VIRTUAL_OUTBOUND = "virtualOutbound";

  private final HttpRoutes routes;
  private final String trustDomain;

  public SidecarListeners(String domainSuffix, String trustDomain) {
    this.routes = new HttpRoutes(domainSuffix, true);
    this.trustDomain = trustDomain;
  }

  @Override
  public String typeUrl() {
    return XdsTypes.LISTENER;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return listeners(snapshot, proxy).named(names);
  }

  /**
   * Listeners read services and endpoints, the VirtualServices of hosts in scope (TCP and TLS
   * routes), the proxy's Sidecar, and the PeerAuthentication, AuthorizationPolicies and
   * RequestAuthentications that apply in its namespace (inbound); not DestinationRules.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.appliesIn(IstioKind.SIDECAR, proxy.namespace())
        || change.appliesIn(IstioKind.PEER_AUTHENTICATION, proxy.namespace())
        || change.appliesIn(IstioKind.AUTHORIZATION_POLICY, proxy.namespace())
        || change.appliesIn(IstioKind.REQUEST_AUTHENTICATION, proxy.namespace())
        || change.sidecarSees(proxy, change.virtualServiceHosts());
  }

  /**
   * Every listener of the proxy. The outbound ones depend only on its {@link OutboundKey}, so they
   * are built once per key and snapshot and shared; {@code virtualInbound} is the proxy's own.
   */
  public Generated listeners(MeshSnapshot snapshot, ProxyView proxy) {
    Warnings warnings = new Warnings();
    Map<String, Message> listeners = new TreeMap<>(outboundListeners(snapshot, proxy));
    listeners.put(
        SidecarInbound.NAME,
        warnings.inbound(
            snapshot,
            proxy,
            own ->
                EnvoyAccessLogs.withListenerLogs(
                    EnvoyAccessLogs.withLogs(
                        SidecarInbound.listener(
                            snapshot,
                            proxy,
                            SidecarClusters.inboundPorts(snapshot, proxy),
                            trustDomain,
                            own),
                        EnvoyAccessLogs.of(snapshot)),
                    EnvoyAccessLogs.listenerLogs(snapshot))));
    return Generated.of(listeners, warnings);
  }

  private Map<String, Message> outboundListeners(MeshSnapshot snapshot, ProxyView proxy) {
    return snapshot.derived(
        List.of("lds-outbound", routes.domainSuffix(), OutboundKey.of(snapshot, proxy)),
        () -> {
          Map<String, Message> built = buildOutboundListeners(snapshot, proxy);
          List<io.envoyproxy.envoy.config.accesslog.v3.AccessLog> logs =
              EnvoyAccessLogs.of(snapshot);
          built.replaceAll((name, listener) -> EnvoyAccessLogs.withLogs((Listener) listener, logs));
          built.computeIfPresent(
              VIRTUAL_OUTBOUND,
              (name, listener) ->
                  EnvoyAccessLogs.withListenerLogs(
                      (Listener) listener, EnvoyAccessLogs.listenerLogs(snapshot)));
          return java.util.Collections.unmodifiableMap(built);
        });
  }

  private Map<String, Message> buildOutboundListeners(MeshSnapshot snapshot, ProxyView proxy) {
    Map<String, Message> listeners = new TreeMap<>();
    SidecarScope scope = SidecarScope.of(snapshot, proxy);
    Set<Integer> httpPorts = new LinkedHashSet<>();
    for (MeshService service : scope.services()) {
      for (ServicePort port : service.ports()) {
        if (port.protocol().isHttp()) {
          httpPorts.add(port.port());
        } else if (!service.addresses().isEmpty()
            && service.resolution() != Resolution.PASSTHROUGH) {
          String address = service.addresses().get(0);
          String name = address + "_" + port.port();
          TcpRoutes.Chains chains =
              TcpRoutes.chains(snapshot, proxy, service, port.port(), name, routes);
          Listener.Builder listener =
              Listener.newBuilder()
                  .setName(name)
                  .setAddress(EnvoyAddresses.socket(address, port.port()))
                  .setBindToPort(BoolValue.of(false))
                  .addAllFilterChains(chains.chains());
          if (chains.sni()) {
            listener.addListenerFilters(TcpRoutes.tlsInspector());
          }
          listeners.put(name, listener.build());
        }
      }
    }
    for (int port : httpPorts) {
      String name = "0.0.0.0_" + port;
      listeners.putIfAbsent(
          name,
          listener(
              name,
              "0.0.0.0",
              port,
              false,
              FilterChain.newBuilder()
                  .addFilters(EnvoyFilters.httpConnectionManager("outbound_" + name, rds(port)))
                  .build()));
    }
    String fallback =
        scope.registryOnly() ? SidecarClusters.BLACKHOLE : SidecarClusters.PASSTHROUGH;
    listeners.put(
        VIRTUAL_OUTBOUND,
        Listener.newBuilder()
            .setName(VIRTUAL_OUTBOUND)
            .setAddress(EnvoyAddresses.socket("0.0.0.0", 15001))
            .setUseOriginalDst(BoolValue.of(true))
            .setDefaultFilterChain(tcpChain("virtualOutbound", fallback))
            .build());
    return listeners;
  }

  private static Listener listener(
      String name, String ip, int port, boolean bind, FilterChain chain) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(EnvoyAddresses.socket(ip, port))
        .setBindToPort(BoolValue.of(bind))
        .addFilterChains(chain)
        .build();
  }

  private static java.util.function.Consumer<HttpConnectionManager.Builder> rds(int port) {
    return manager ->
        manager.setRds(
            Rds.newBuilder()
                .setRouteConfigName(Integer.toString(port))
                .setConfigSource(EnvoyAddresses.ADS));
  }

  private static FilterChain tcpChain(String statPrefix, String cluster) {
    return FilterChain.newBuilder().addFilters(EnvoyFilters.tcpProxy(statPrefix, cluster)).build();
  }
}
