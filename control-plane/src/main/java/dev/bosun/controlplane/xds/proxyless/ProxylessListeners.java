package dev.bosun.controlplane.xds.proxyless;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyFilters;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Proxyless LDS: API listeners named exactly as the client dials ({@code host:port}), routes from
 * RDS of the same name, and listeners for proxyless gRPC servers ({@link
 * ProxylessServerListeners}).
 */
public final class ProxylessListeners implements TypeGenerator {
  private final ProxylessTargets targets;
  private final String trustDomain;

  public ProxylessListeners(String domainSuffix, String trustDomain) {
    this.targets = new ProxylessTargets(domainSuffix);
    this.trustDomain = trustDomain;
  }

  @Override
  public String typeUrl() {
    return XdsTypes.LISTENER;
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    return listeners(snapshot, proxy, names);
  }

  /**
   * Client listeners read services only; server listeners the PeerAuthentication and
   * AuthorizationPolicies that apply in the proxy's namespace.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    return change.everything()
        || change.appliesIn(IstioKind.PEER_AUTHENTICATION, proxy.namespace())
        || change.appliesIn(IstioKind.AUTHORIZATION_POLICY, proxy.namespace());
  }

  /**
   * Client listeners named as dialled ({@code host:port}) and server listeners ({@code
   * xds.istio.io/grpc/lds/inbound/<ip>:<port>}); names that resolve to neither are left out.
   */
  public Generated listeners(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Warnings warnings = new Warnings();
    Map<String, Message> listeners = new TreeMap<>();
    for (String name : names) {
      if (ProxylessServerListeners.isServerListener(name)) {
        ProxylessServerListeners.listener(snapshot, proxy, name, trustDomain, warnings)
            .ifPresent(listener -> listeners.put(name, listener));
        continue;
      }
      targets
          .resolve(snapshot, proxy, name)
          .ifPresent(target -> listeners.put(name, apiListener(name)));
    }
    return Generated.of(listeners, warnings);
  }

  private static Listener apiListener(String name) {
    HttpConnectionManager manager =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setRouteConfigName(name).setConfigSource(EnvoyAddresses.ADS))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(EnvoyFilters.FAULT_FILTER)
                    .setTypedConfig(
                        Any.pack(
                            io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault
                                .getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(manager)))
        .build();
  }
}
