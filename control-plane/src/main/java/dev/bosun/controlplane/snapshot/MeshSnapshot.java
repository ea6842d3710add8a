package dev.bosun.controlplane.snapshot;

import dev.bosun.controlplane.config.Conflict;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.ExportTo;
import dev.bosun.controlplane.model.MeshService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One consistent, immutable picture of the mesh: services by host, their endpoints, and the indexed
 * Istio config. Generators read only this. A new snapshot is built per push; an endpoints-only push
 * shares everything but the changed hosts' endpoint lists.
 */
public final class MeshSnapshot {
  private final long version;
  private final Instant built;
  private final Map<String, MeshService> services;
  private final Map<String, List<Endpoint>> endpoints;
  private final ConfigIndex config;
  private final List<Conflict> conflicts;
  private final MeshConfig meshConfig;
  private final Map<String, dev.bosun.controlplane.model.TlsCredential> credentials;
  private final Map<dev.bosun.controlplane.model.JwksSource, String> jwks;

  /**
   * Values derived from this snapshot alone (a cluster, a route configuration, a proxy scope),
   * computed once and shared by every proxy whose inputs are the same. It dies with the snapshot,
   * so nothing in it is ever stale.
   */
  private final java.util.concurrent.ConcurrentHashMap<Object, Object> derived =
      new java.util.concurrent.ConcurrentHashMap<>();

  MeshSnapshot(
      long version,
      Instant built,
      Map<String, MeshService> services,
      Map<String, List<Endpoint>> endpoints,
      ConfigIndex config,
      List<Conflict> conflicts,
      MeshConfig meshConfig,
      Map<String, dev.bosun.controlplane.model.TlsCredential> credentials,
      Map<dev.bosun.controlplane.model.JwksSource, String> jwks) {
    this.version = version;
    this.built = built;
    this.services = Collections.unmodifiableMap(services);
    this.endpoints = Collections.unmodifiableMap(endpoints);
    this.config = config;
    this.conflicts = List.copyOf(conflicts);
    this.meshConfig = java.util.Objects.requireNonNull(meshConfig, "meshConfig");
    this.credentials = Map.copyOf(credentials);
    this.jwks = Map.copyOf(jwks);
  }

  /** The JWT signing keys fetched for RequestAuthentications, by where they come from. */
  public Map<dev.bosun.controlplane.model.JwksSource, String> jwks() {
    return jwks;
  }

  /** The TLS credentials gateways may be sent, by Secret {@code namespace/name}. */
  public Map<String, dev.bosun.controlplane.model.TlsCredential> credentials() {
    return credentials;
  }

  /** Increases by one with every snapshot a control plane builds. */
  public long version() {
    return version;
  }

  public Instant built() {
    return built;
  }

  /** Every service by host name (Kubernetes Services and ServiceEntry hosts). */
  public Map<String, MeshService> services() {
    return services;
  }

  public Optional<MeshService> service(String host) {
    return Optional.ofNullable(services.get(host));
  }

  /** Services a proxy in {@code namespace} may see. */
  public List<MeshService> servicesVisibleFrom(String namespace) {
    List<MeshService> visible = new ArrayList<>();
    for (MeshService service : services.values()) {
      if (visibleFrom(service, namespace)) {
        visible.add(service);
      }
    }
    return visible;
  }

  /**
   * Whether proxies in {@code namespace} may see {@code service}: its {@code exportTo}, else the
   * mesh config's {@code defaultServiceExportTo}.
   */
  public boolean visibleFrom(MeshService service, String namespace) {
    return ExportTo.of(service.namespace(), service.exportTo(), meshConfig.exportTo().services())
        .visibleFrom(namespace);
  }

  /** The mesh-wide settings this snapshot was built with (Istio's MeshConfig). */
  public MeshConfig meshConfig() {
    return meshConfig;
  }

  /** All endpoints of a host, every health state, sorted by address. */
  public List<Endpoint> endpoints(String host) {
    return endpoints.getOrDefault(host, List.of());
  }

  /**
   * Endpoints that serve {@code portName} of {@code host} and carry every label of {@code subset}
   * (a DestinationRule subset; empty for all).
   */
  public List<Endpoint> endpoints(String host, String portName, Map<String, String> subset) {
    List<Endpoint> result = new ArrayList<>();
    for (Endpoint endpoint : endpoints(host)) {
      if (endpoint.ports().containsKey(portName) && endpoint.matches(subset)) {
        result.add(endpoint);
      }
    }
    return result;
  }

  /** The endpoint lists by host; shared between snapshots where unchanged. */
  Map<String, List<Endpoint>> endpointMap() {
    return endpoints;
  }

  public ConfigIndex config() {
    return config;
  }

  /** Objects that lost to another by Istio's precedence, and what they competed for. */
  public List<Conflict> conflicts() {
    return conflicts;
  }

  /**
   * The value derived from this snapshot under {@code key}, computed by {@code compute} the first
   * time it is asked for. {@code key} must hold every input besides the snapshot that the value
   * depends on (a proxy's namespace, the resource name, ...). {@code compute} may itself ask for
   * derived values; two threads may both compute a missing value, and the first stored wins.
   */
  public <T> T derived(Object key, java.util.function.Supplier<T> compute) {
    @SuppressWarnings("unchecked")
    T value = (T) derived.get(key);
    if (value != null) {
      return value;
    }
    T computed = java.util.Objects.requireNonNull(compute.get(), "derived value");
    @SuppressWarnings("unchecked")
    T raced = (T) derived.putIfAbsent(key, computed);
    return raced != null ? raced : computed;
  }

  /** How many derived values this snapshot holds, for debugging and benchmarks. */
  public int derivedCount() {
    return derived.size();
  }

  /** A summary for {@code /debug/snapshot}. */
  public Map<String, Object> summary() {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("version", version);
    summary.put("built", built.toString());
    summary.put("services", services.size());
    summary.put("endpoints", endpoints.values().stream().mapToInt(List::size).sum());
    long healthy =
        endpoints.values().stream()
            .flatMap(List::stream)
            .filter(e -> e.health() == Endpoint.Health.HEALTHY)
            .count();
    summary.put("healthyEndpoints", healthy);
    summary.put("config", config.counts());
    summary.put("tlsSecrets", credentials.size());
    summary.put("conflicts", conflicts.stream().map(Conflict::toString).toList());
    return summary;
  }
}
