package dev.bosun.controlplane.xds.policy;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.snapshot.ConfigIndex;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.security.v1beta1.PeerAuthentication;
import io.fabric8.istio.api.api.security.v1beta1.PeerAuthenticationMutualTLS;
import io.fabric8.istio.api.api.security.v1beta1.PeerAuthenticationMutualTLSMode;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mTLS mode a workload's server side accepts, composed from its PeerAuthentications as istiod
 * does: a workload policy (a selector matching its labels, in its own namespace) over its
 * namespace's policy (no selector) over the mesh-wide one (no selector, root namespace), PERMISSIVE
 * when none says otherwise. {@code UNSET} inherits from the level above. Port-level modes count
 * only in the workload policy, keyed by the port the workload listens on. Where a level has several
 * policies the oldest wins (creation time, then name).
 */
public record PeerAuthenticationPolicy(Mode mode, Map<Integer, Mode> portModes) {

  /** What a server accepts. */
  public enum Mode {
    /** Only Istio mTLS. */
    STRICT,
    /** Istio mTLS and plaintext. */
    PERMISSIVE,
    /** Only plaintext. */
    DISABLE
  }

  /** No policy at all: PERMISSIVE everywhere. */
  public static final PeerAuthenticationPolicy DEFAULT =
      new PeerAuthenticationPolicy(Mode.PERMISSIVE, Map.of());

  public PeerAuthenticationPolicy {
    java.util.Objects.requireNonNull(mode, "mode");
    portModes = Map.copyOf(portModes);
  }

  /** The mode on {@code port}, the port the workload itself listens on. */
  public Mode forPort(int port) {
    return portModes.getOrDefault(port, mode);
  }

  /** The policy of a workload in {@code namespace} with {@code labels}. */
  public static PeerAuthenticationPolicy of(
      ConfigIndex config, String namespace, Map<String, String> labels) {
    ConfigEntry mesh = null;
    ConfigEntry namespaceWide = null;
    ConfigEntry workload = null;
    // Entries come in precedence order (oldest first), so the first of each level wins.
    for (ConfigEntry entry : config.policies(IstioKind.PEER_AUTHENTICATION, namespace, labels)) {
      PeerAuthentication spec = entry.spec(PeerAuthentication.class);
      boolean root = entry.key().namespace().equals(config.rootNamespace());
      if (!hasSelector(spec)) {
        if (root && mesh == null) {
          mesh = entry;
        } else if (!root && namespaceWide == null) {
          namespaceWide = entry;
        }
      } else if (!root && workload == null) {
        // istiod ignores selector policies in the root namespace.
        workload = entry;
      }
    }
    Mode mode = Mode.PERMISSIVE;
    for (ConfigEntry level : new ConfigEntry[] {mesh, namespaceWide, workload}) {
      if (level != null) {
        mode = inherit(level.spec(PeerAuthentication.class).getMtls(), mode);
      }
    }
    Map<Integer, Mode> ports = new TreeMap<>();
    if (workload != null) {
      Map<String, PeerAuthenticationMutualTLS> portLevel =
          workload.spec(PeerAuthentication.class).getPortLevelMtls();
      if (portLevel != null) {
        Mode workloadMode = mode;
        for (Map.Entry<String, PeerAuthenticationMutualTLS> port : portLevel.entrySet()) {
          parsePort(port.getKey())
              .ifPresent(p -> ports.put(p, inherit(port.getValue(), workloadMode)));
        }
      }
    }
    return new PeerAuthenticationPolicy(mode, ports);
  }

  /**
   * The policy of the workload behind a proxy: its namespace, and its labels from the node (the
   * Istio agent sends them), else those of the endpoint at one of its addresses.
   */
  public static PeerAuthenticationPolicy forProxy(MeshSnapshot snapshot, ProxyView proxy) {
    return of(snapshot.config(), proxy.namespace(), workloadLabels(snapshot, proxy));
  }

  /** The policy of the workload behind an endpoint. */
  public static PeerAuthenticationPolicy forEndpoint(MeshSnapshot snapshot, Endpoint endpoint) {
    return of(snapshot.config(), endpoint.namespace(), endpoint.labels());
  }

  /** The proxy's workload labels: the node's, else those of an endpoint at its address. */
  public static Map<String, String> workloadLabels(MeshSnapshot snapshot, ProxyView proxy) {
    if (!proxy.labels().isEmpty()) {
      return proxy.labels();
    }
    for (var service : snapshot.services().values()) {
      if (!service.namespace().equals(proxy.namespace())) {
        continue;
      }
      for (Endpoint endpoint : snapshot.endpoints(service.hostname())) {
        if (proxy.hasAddress(endpoint.address()) && !endpoint.labels().isEmpty()) {
          return endpoint.labels();
        }
      }
    }
    return Map.of();
  }

  private static boolean hasSelector(PeerAuthentication spec) {
    return spec.getSelector() != null
        && spec.getSelector().getMatchLabels() != null
        && !spec.getSelector().getMatchLabels().isEmpty();
  }

  /** The mode a level sets, or {@code parent} when it leaves it UNSET. */
  private static Mode inherit(PeerAuthenticationMutualTLS mtls, Mode parent) {
    PeerAuthenticationMutualTLSMode mode = mtls == null ? null : mtls.getMode();
    if (mode == null) {
      return parent;
    }
    return switch (mode) {
      case STRICT -> Mode.STRICT;
      case PERMISSIVE -> Mode.PERMISSIVE;
      case DISABLE -> Mode.DISABLE;
      case UNSET -> parent;
    };
  }

  private static java.util.Optional<Integer> parsePort(String key) {
    try {
      int port = Integer.parseInt(key.trim());
      return port >= 1 && port <= 65535 ? java.util.Optional.of(port) : java.util.Optional.empty();
    } catch (NumberFormatException e) {
      return java.util.Optional.empty();
    }
  }
}
