package dev.bosun.controlplane.xds.scope;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.HostPattern;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import io.fabric8.istio.api.api.networking.v1alpha3.IstioEgressListener;
import io.fabric8.istio.api.api.networking.v1alpha3.Sidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The services a sidecar sees: those exported to its namespace, narrowed by the Sidecar resource
 * that applies to it ({@code egress[].hosts} as {@code namespace/host}). Without a Sidecar, every
 * visible service, as in Istio. Port-specific egress listeners are treated as one union of hosts.
 * Unknown destinations are blocked when the Sidecar's {@code outboundTrafficPolicy} says {@code
 * REGISTRY_ONLY}, or, when the Sidecar sets none (or there is no Sidecar), when the mesh config's
 * does.
 */
public record SidecarScope(List<MeshService> services, boolean registryOnly) {
  public SidecarScope {
    services = List.copyOf(services);
  }

  /** The scope of {@code proxy}, computed once per {@link OutboundKey} and snapshot. */
  public static SidecarScope of(MeshSnapshot snapshot, ProxyView proxy) {
    return of(snapshot, proxy, snapshot.config().sidecar(proxy.namespace(), proxy.labels()));
  }

  /**
   * The scope {@code sidecar} (or none) gives {@code proxy}; a gateway's is always the default of
   * its namespace, since Sidecars do not apply to gateways.
   */
  public static SidecarScope of(
      MeshSnapshot snapshot, ProxyView proxy, Optional<ConfigEntry> sidecar) {
    OutboundKey key = OutboundKey.of(snapshot, proxy, sidecar);
    return snapshot.derived(
        List.of("sidecar-scope", key.namespace(), key.sidecar()),
        () -> compute(snapshot, proxy.namespace(), sidecar));
  }

  private static SidecarScope compute(
      MeshSnapshot snapshot, String namespace, Optional<ConfigEntry> sidecar) {
    List<MeshService> visible = snapshot.servicesVisibleFrom(namespace);
    boolean meshRegistryOnly = snapshot.meshConfig().outboundTrafficPolicy().registryOnly();
    if (sidecar.isEmpty()) {
      return new SidecarScope(visible, meshRegistryOnly);
    }
    Sidecar spec = sidecar.get().spec(Sidecar.class);
    boolean registryOnly =
        spec.getOutboundTrafficPolicy() == null
            ? meshRegistryOnly
            : spec.getOutboundTrafficPolicy().getMode() != null
                && "REGISTRY_ONLY".equals(spec.getOutboundTrafficPolicy().getMode().name());
    if (spec.getEgress() == null || spec.getEgress().isEmpty()) {
      return new SidecarScope(visible, registryOnly);
    }
    List<MeshService> scoped = new ArrayList<>();
    for (MeshService service : visible) {
      for (IstioEgressListener egress : spec.getEgress()) {
        List<String> hosts = egress.getHosts() == null ? List.of() : egress.getHosts();
        if (hosts.stream().noneMatch(h -> excludes(h, service, namespace))
            && hosts.stream().anyMatch(h -> imports(h, service, namespace))) {
          scoped.add(service);
          break;
        }
      }
    }
    return new SidecarScope(scoped, registryOnly);
  }

  /**
   * istiod's exclusion {@code ~namespace/host} (namespace as for imports, none for every
   * namespace): the listener does not import a service of that namespace whose host the pattern
   * covers, whatever else it imports.
   */
  static boolean excludes(String egressHost, MeshService service, String proxyNamespace) {
    int slash = egressHost.indexOf('/');
    if (!egressHost.startsWith("~") || slash < 0) {
      return false;
    }
    String namespace = egressHost.substring(1, slash);
    boolean namespaceMatches =
        namespace.isEmpty()
            || namespace.equals("*")
            || (namespace.equals(".") && service.namespace().equals(proxyNamespace))
            || namespace.equals(service.namespace());
    return namespaceMatches
        && HostPattern.matches(egressHost.substring(slash + 1), service.hostname());
  }

  /** {@code namespace/host}: namespace ".", "*", "~" or a name; host "*", "*.suffix" or exact. */
  static boolean imports(String egressHost, MeshService service, String proxyNamespace) {
    int slash = egressHost.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String namespace = egressHost.substring(0, slash);
    String host = egressHost.substring(slash + 1);
    boolean namespaceMatches =
        namespace.equals("*")
            || (namespace.equals(".") && service.namespace().equals(proxyNamespace))
            || namespace.equals(service.namespace());
    if (!namespaceMatches || namespace.equals("~")) {
      return false;
    }
    return HostPattern.matches(host, service.hostname());
  }
}
