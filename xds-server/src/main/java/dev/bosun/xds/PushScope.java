package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import java.util.Set;
import java.util.function.Predicate;

/**
 * Which proxies a change concerns and which resource types it may have changed. The server
 * regenerates only those types for only those proxies, and sends only resources whose content
 * changed.
 */
public record PushScope(
    Predicate<XdsProxy> proxies, Set<String> types, String reason, long startNanos) {
  public PushScope {
    requireNonNull(proxies, "proxies");
    types = Set.copyOf(types);
    requireNonNull(reason, "reason");
  }

  /** Every type for every proxy. */
  public static PushScope everything(String reason, long startNanos) {
    return new PushScope(p -> true, Set.of(), reason, startNanos);
  }

  /** Some types for every proxy (empty: every type). */
  public static PushScope types(Set<String> types, String reason, long startNanos) {
    return new PushScope(p -> true, types, reason, startNanos);
  }

  /** Whether the scope covers a type (an empty type set covers all). */
  public boolean covers(String typeUrl) {
    return types.isEmpty() || types.contains(typeUrl);
  }
}
