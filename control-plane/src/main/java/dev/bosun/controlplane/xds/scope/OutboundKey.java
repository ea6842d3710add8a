package dev.bosun.controlplane.xds.scope;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMatchRequest;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.L4MatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.TCPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSMatchAttributes;
import io.fabric8.istio.api.api.networking.v1alpha3.TLSRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything of a proxy that its outbound configuration (clusters, outbound listeners, routes)
 * depends on: its namespace, the Sidecar that scopes it, and its labels only when some
 * VirtualService matches on source labels. Proxies with equal keys get equal outbound config, so it
 * is generated once per key and snapshot and shared.
 *
 * @param namespace the proxy's namespace
 * @param sidecar the Sidecar that applies to it ({@code kind namespace/name}), or "" for none
 * @param sourceLabels the proxy's labels where a VirtualService of the snapshot matches on {@code
 *     sourceLabels}, else empty
 */
public record OutboundKey(String namespace, String sidecar, Map<String, String> sourceLabels) {
  public OutboundKey {
    sourceLabels = Map.copyOf(sourceLabels);
  }

  /** This key with {@code sidecar} in place of the Sidecar's name (a gateway's own variant). */
  public OutboundKey withSidecar(String sidecar) {
    return new OutboundKey(namespace, sidecar, sourceLabels);
  }

  public static OutboundKey of(
      MeshSnapshot snapshot, ProxyView proxy, Optional<ConfigEntry> sidecar) {
    return new OutboundKey(
        proxy.namespace(),
        sidecar.map(entry -> entry.key().toString()).orElse(""),
        usesSourceLabels(snapshot) ? proxy.labels() : Map.of());
  }

  public static OutboundKey of(MeshSnapshot snapshot, ProxyView proxy) {
    return of(snapshot, proxy, snapshot.config().sidecar(proxy.namespace(), proxy.labels()));
  }

  /** Whether any VirtualService of the snapshot matches on the client's labels; computed once. */
  public static boolean usesSourceLabels(MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("uses-source-labels"),
        () -> {
          for (ConfigEntry entry : snapshot.config().list(IstioKind.VIRTUAL_SERVICE)) {
            if (usesSourceLabels(entry.spec(VirtualService.class))) {
              return true;
            }
          }
          return false;
        });
  }

  private static boolean usesSourceLabels(VirtualService spec) {
    for (HTTPRoute route : orEmpty(spec.getHttp())) {
      for (HTTPMatchRequest match : orEmpty(route.getMatch())) {
        if (present(match.getSourceLabels())) {
          return true;
        }
      }
    }
    for (TCPRoute route : orEmpty(spec.getTcp())) {
      for (L4MatchAttributes match : orEmpty(route.getMatch())) {
        if (present(match.getSourceLabels())) {
          return true;
        }
      }
    }
    for (TLSRoute route : orEmpty(spec.getTls())) {
      for (TLSMatchAttributes match : orEmpty(route.getMatch())) {
        if (present(match.getSourceLabels())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean present(Map<String, String> labels) {
    return labels != null && !labels.isEmpty();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
