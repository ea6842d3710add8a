package dev.bosun.controlplane.xds.scope;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.model.HostPattern;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.snapshot.ConfigIndex;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.Destination;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one push changed, in the terms generators decide by whether it concerns a proxy: the push
 * request and the snapshots before and after it (an object deleted is only in the one before, an
 * object created only in the one after). Kinds whose effect is not traced per object make the
 * change concern everything.
 */
public final class MeshChange {
  /** Kinds whose objects' effect generators trace to the proxies they concern. */
  private static final Set<IstioKind> TRACED =
      EnumSet.of(
          IstioKind.VIRTUAL_SERVICE,
          IstioKind.DESTINATION_RULE,
          IstioKind.SIDECAR,
          IstioKind.PEER_AUTHENTICATION,
          IstioKind.AUTHORIZATION_POLICY,
          IstioKind.REQUEST_AUTHENTICATION);

  private final PushRequest request;
  private final MeshSnapshot previous;
  private final MeshSnapshot current;
  private final boolean everything;
  private final Set<IstioKind> kinds = EnumSet.noneOf(IstioKind.class);
  private final Map<IstioKind, Set<String>> namespaces = new EnumMap<>(IstioKind.class);
  private final Set<String> virtualServiceHosts = new LinkedHashSet<>();
  private final Set<String> destinationRuleHosts = new LinkedHashSet<>();
  private final Set<String> destinationRuleRouteHosts = new LinkedHashSet<>();
  private final Map<List<Object>, Boolean> seen = new ConcurrentHashMap<>();

  private MeshChange(PushRequest request, MeshSnapshot previous, MeshSnapshot current) {
    this.request = request;
    this.previous = previous;
    this.current = current;
    boolean untraced =
        previous == null
            || (request.full() && request.configs().isEmpty())
            || !request.services().isEmpty()
            || request.configs().stream().anyMatch(key -> !TRACED.contains(key.kind()));
    this.everything = request.full() && untraced;
    if (everything) {
      return;
    }
    List<MeshSnapshot> both = List.of(previous, current);
    for (ConfigKey key : request.configs()) {
      kinds.add(key.kind());
      namespaces.computeIfAbsent(key.kind(), k -> new LinkedHashSet<>()).add(key.namespace());
      for (MeshSnapshot snapshot : both) {
        snapshot
            .config()
            .entry(key)
            .ifPresent(
                entry -> {
                  List<String> hosts = snapshot.config().hosts(entry);
                  if (key.kind() == IstioKind.VIRTUAL_SERVICE) {
                    virtualServiceHosts.addAll(hosts);
                  } else if (key.kind() == IstioKind.DESTINATION_RULE) {
                    destinationRuleHosts.addAll(hosts);
                  }
                });
      }
    }
    if (!destinationRuleHosts.isEmpty()) {
      // Routes carry the hash policy of the rule of the host they route to.
      destinationRuleRouteHosts.addAll(destinationRuleHosts);
      for (MeshSnapshot snapshot : both) {
        for (ConfigEntry entry : snapshot.config().list(IstioKind.VIRTUAL_SERVICE)) {
          if (routesTo(snapshot.config(), entry, destinationRuleHosts)) {
            destinationRuleRouteHosts.addAll(snapshot.config().hosts(entry));
          }
        }
      }
    }
  }

  /**
   * The change {@code request} made from {@code previous} (null: none before, so it concerns
   * everything) to {@code current}.
   */
  public static MeshChange of(PushRequest request, MeshSnapshot previous, MeshSnapshot current) {
    return new MeshChange(request, previous, current);
  }

  /** Whether anything may have changed for anyone: startup, a resync, services, untraced kinds. */
  public boolean everything() {
    return everything;
  }

  /**
   * Whether VirtualServices changed and nothing else: no other kind, service, endpoint or Secret.
   */
  public boolean onlyVirtualServices() {
    return !everything
        && kinds.equals(EnumSet.of(IstioKind.VIRTUAL_SERVICE))
        && request.services().isEmpty()
        && request.endpoints().isEmpty()
        && request.secrets().isEmpty();
  }

  /** Whether the endpoints of some host changed. */
  public boolean endpoints() {
    return !request.endpoints().isEmpty();
  }

  /**
   * Whether the endpoints changed which service ports the proxy serves, or on which ports (a
   * gateway listens on its Service's targetPorts, found through the Service's endpoints).
   */
  public boolean serviceTargetsChanged(ProxyView proxy) {
    if (previous == null || request.endpoints().isEmpty()) {
      return false;
    }
    return !targets(previous, proxy).equals(targets(current, proxy));
  }

  private static List<List<Object>> targets(MeshSnapshot snapshot, ProxyView proxy) {
    List<List<Object>> targets = new ArrayList<>();
    for (var target :
        dev.bosun.controlplane.xds.sidecar.SidecarClusters.serviceTargets(snapshot, proxy)) {
      targets.add(List.of(target.service().hostname(), target.port().port(), target.targetPort()));
    }
    return targets;
  }

  /** The snapshot after the change. */
  public MeshSnapshot snapshot() {
    return current;
  }

  /** The TLS Secrets ({@code namespace/name}) that changed. */
  public Set<String> secrets() {
    return request.secrets();
  }

  /** Whether an object of {@code kind} changed. */
  public boolean touches(IstioKind kind) {
    return kinds.contains(kind);
  }

  /**
   * Whether a changed object of {@code kind} applies to workloads in {@code namespace}: it is in
   * that namespace, or in the root namespace, which applies mesh-wide.
   */
  public boolean appliesIn(IstioKind kind, String namespace) {
    Set<String> changed = namespaces.getOrDefault(kind, Set.of());
    return changed.contains(namespace) || changed.contains(current.config().rootNamespace());
  }

  /** The hosts of the changed VirtualServices, before and after. */
  public Set<String> virtualServiceHosts() {
    return virtualServiceHosts;
  }

  /** The hosts (or host patterns) of the changed DestinationRules, before and after. */
  public Set<String> destinationRuleHosts() {
    return destinationRuleHosts;
  }

  /**
   * The hosts whose routes read a changed DestinationRule: its own, and those of VirtualServices
   * that route to it.
   */
  public Set<String> destinationRuleRouteHosts() {
    return destinationRuleRouteHosts;
  }

  /**
   * The hosts (or host patterns) whose routes this change may alter: those of the changed
   * VirtualServices and those that read a changed DestinationRule ({@link
   * #destinationRuleRouteHosts}). Empty for {@link #everything}, which alters every route.
   */
  public Set<String> routeHosts() {
    if (destinationRuleRouteHosts.isEmpty()) {
      return virtualServiceHosts;
    }
    Set<String> hosts = new LinkedHashSet<>(virtualServiceHosts);
    hosts.addAll(destinationRuleRouteHosts);
    return hosts;
  }

  /**
   * Whether a sidecar's scope holds a service that one of {@code hosts} (exact or {@code *.}
   * patterns) names; decided once per scope.
   */
  public boolean sidecarSees(ProxyView proxy, Set<String> hosts) {
    if (hosts.isEmpty()) {
      return false;
    }
    OutboundKey key = OutboundKey.of(current, proxy);
    return seen.computeIfAbsent(
        List.of(key.namespace(), key.sidecar(), hosts),
        k -> {
          for (MeshService service : SidecarScope.of(current, proxy).services()) {
            for (String host : hosts) {
              if (HostPattern.matches(host, service.hostname())) {
                return true;
              }
            }
          }
          return false;
        });
  }

  private static boolean routesTo(ConfigIndex config, ConfigEntry entry, Set<String> hosts) {
    for (Destination destination : ConfigIndex.destinations(entry.spec(VirtualService.class))) {
      String host = config.qualify(destination.getHost(), entry.key().namespace());
      for (String pattern : hosts) {
        if (HostPattern.overlap(pattern, host)) {
          return true;
        }
      }
    }
    return false;
  }
}
