package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * Which proxies a change concerns, which resource types it may have changed, and optionally which
 * resources. The server regenerates only those for only those proxies, and sends only resources
 * whose content changed. {@code concerns} narrows it per type: whether the change concerns that
 * type of that proxy (its generator's decision). {@code snapshot} is what the control plane made
 * the change in (opaque to the server): every response a stream sends for this push is generated
 * from it, or from a later one, never from an earlier one or from several.
 */
public record PushScope(
    Predicate<XdsProxy> proxies,
    Set<String> types,
    BiPredicate<String, XdsProxy> concerns,
    Map<String, Set<String>> names,
    String reason,
    long startNanos,
    Object snapshot) {

  public PushScope {
    requireNonNull(proxies, "proxies");
    types = Set.copyOf(types);
    requireNonNull(concerns, "concerns");
    names = Map.copyOf(names);
    requireNonNull(reason, "reason");
  }

  public PushScope(Predicate<XdsProxy> proxies, Set<String> types, String reason, long startNanos) {
    this(proxies, types, (type, proxy) -> true, Map.of(), reason, startNanos, null);
  }

  /** This scope, generated from {@code snapshot}. */
  public PushScope withSnapshot(Object snapshot) {
    return new PushScope(
        proxies, types, concerns, names, reason, startNanos, requireNonNull(snapshot, "snapshot"));
  }

  /**
   * This scope, narrowed to the types of the proxies {@code concerns} accepts (type URL, proxy):
   * the others are neither regenerated nor sent anything.
   */
  public PushScope concerning(BiPredicate<String, XdsProxy> concerns) {
    return new PushScope(
        proxies, types, this.concerns.and(concerns), names, reason, startNanos, snapshot);
  }

  /** Every type for every proxy. */
  public static PushScope everything(String reason, long startNanos) {
    return new PushScope(p -> true, Set.of(), reason, startNanos);
  }

  /** Some types for every proxy (empty: every type). */
  public static PushScope types(Set<String> types, String reason, long startNanos) {
    return new PushScope(p -> true, types, reason, startNanos);
  }

  /**
   * Only these resources of {@code type} may have changed: proxies that subscribed to them by name
   * regenerate just those. Wildcard subscriptions and Listener/Cluster responses regenerate
   * everything regardless.
   */
  public PushScope onlyNames(String type, Set<String> resourceNames) {
    Map<String, Set<String>> hints = new HashMap<>(names);
    hints.put(type, Set.copyOf(resourceNames));
    return new PushScope(proxies, types, concerns, hints, reason, startNanos, snapshot);
  }

  /** Whether the scope covers a type (an empty type set covers all). */
  public boolean covers(String typeUrl) {
    return types.isEmpty() || types.contains(typeUrl);
  }

  /** Whether the change may have changed this type of this proxy. */
  public boolean covers(String typeUrl, XdsProxy proxy) {
    return covers(typeUrl) && concerns.test(typeUrl, proxy);
  }
}
