package dev.bosun.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * One network endpoint of a service: an address, the port it serves each service port on (by
 * service port name), and the workload facts routing needs (labels for subsets, locality, identity,
 * health).
 */
public record Endpoint(
    String address,
    Map<String, Integer> ports,
    Map<String, String> labels,
    Locality locality,
    String namespace,
    String serviceAccount,
    String workload,
    Health health,
    int weight) {

  public Endpoint {
    requireNonNull(address, "address");
    ports = Map.copyOf(ports);
    labels = withoutNulls(labels);
    requireNonNull(locality, "locality");
    namespace = namespace == null ? "" : namespace;
    serviceAccount = serviceAccount == null ? "" : serviceAccount;
    workload = workload == null ? "" : workload;
    requireNonNull(health, "health");
  }

  /**
   * Labels as the API server stores them: an entry with a null key or value (YAML {@code tier: ~}
   * in a local file) is pruned, not carried.
   */
  private static Map<String, String> withoutNulls(Map<String, String> labels) {
    // Not containsKey(null): immutable maps refuse to be asked.
    if (labels.entrySet().stream().allMatch(e -> e.getKey() != null && e.getValue() != null)) {
      return Map.copyOf(labels);
    }
    Map<String, String> kept = new java.util.HashMap<>();
    labels.forEach(
        (key, value) -> {
          if (key != null && value != null) {
            kept.put(key, value);
          }
        });
    return Map.copyOf(kept);
  }

  /** Endpoint health from EndpointSlice conditions. */
  public enum Health {
    /** Ready: receives traffic. */
    HEALTHY,
    /** Not ready and not terminating. */
    UNHEALTHY,
    /** Terminating (still serving or not): never receives new traffic. */
    TERMINATING
  }

  /** Whether every label of {@code selector} is on this endpoint. */
  public boolean matches(Map<String, String> selector) {
    return LabelSelector.selects(selector, labels);
  }
}
