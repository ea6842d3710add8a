package dev.bosun.controlplane.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;

/**
 * One validated Istio object: its key, typed spec (a fabric8 spec class shared by every version),
 * the facts precedence and selection need, and the document as received (for debugging).
 */
public record ConfigEntry(
    ConfigKey key,
    Object spec,
    Instant created,
    Map<String, String> labels,
    String resourceVersion,
    JsonNode document) {

  /**
   * Istio's precedence when two objects claim the same thing: the older one wins, then the one
   * whose name sorts first, then the one whose namespace sorts first.
   */
  public static final Comparator<ConfigEntry> PRECEDENCE =
      Comparator.comparing(ConfigEntry::created)
          .thenComparing(e -> e.key().name())
          .thenComparing(e -> e.key().namespace());

  public ConfigEntry {
    requireNonNull(key, "key");
    requireNonNull(spec, "spec");
    requireNonNull(created, "created");
    labels = Map.copyOf(labels);
    resourceVersion = resourceVersion == null ? "" : resourceVersion;
    requireNonNull(document, "document");
  }

  /** The spec as its fabric8 type. */
  public <T> T spec(Class<T> type) {
    return type.cast(spec);
  }
}
