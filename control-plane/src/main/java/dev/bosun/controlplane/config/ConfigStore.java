package dev.bosun.controlplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.validation.ConfigValidator;
import dev.bosun.crd.validation.ValidationResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Istio objects Bosun uses, validated one by one. An object that fails validation is skipped on
 * its own, logged with the validator's messages, counted, and listed in {@link #rejected()}; if an
 * earlier version of it was valid, that version stays in use, so one bad update never takes working
 * config away.
 */
public final class ConfigStore {
  private static final Logger log = LoggerFactory.getLogger(ConfigStore.class);

  private final Map<IstioKind, Map<ConfigKey, ConfigEntry>> entries =
      new EnumMap<>(IstioKind.class);
  private final Map<ConfigKey, Rejection> rejected = new ConcurrentHashMap<>();
  private final MeterRegistry meters;

  /** Why an object is not (or no longer) in use as written. */
  public record Rejection(
      ConfigKey key, String origin, List<String> messages, boolean previousKept) {
    public Rejection {
      messages = List.copyOf(messages);
    }
  }

  /** The outcome of offering one document to the store. */
  public enum Outcome {
    /** Stored (new or changed). */
    APPLIED,
    /** Identical to what is stored already. */
    UNCHANGED,
    /** Invalid: skipped and reported. */
    REJECTED,
    /** Not an Istio kind Bosun owns. */
    NOT_OWNED
  }

  public ConfigStore(MeterRegistry meters) {
    this.meters = meters;
    for (IstioKind kind : IstioKind.values()) {
      entries.put(kind, new TreeMap<>());
      Gauge.builder("bosun_config_rejected", rejected, r -> count(r, kind))
          .description("Istio objects currently skipped because they failed validation")
          .tag("kind", kind.kind())
          .register(meters);
    }
  }

  private static double count(Map<ConfigKey, Rejection> rejected, IstioKind kind) {
    return rejected.keySet().stream().filter(k -> k.kind() == kind).count();
  }

  /**
   * Validates and stores one document (a whole object). {@code origin} says where it came from for
   * messages (a file and line, or "kubernetes").
   */
  public synchronized Outcome put(JsonNode document, String origin) {
    ValidationResult result = ConfigValidator.validate(document);
    if (result.kind().isEmpty()) {
      if (!result.valid()) {
        log.warn("{}: skipped: {}", origin, String.join("; ", result.messages()));
        return Outcome.REJECTED;
      }
      return Outcome.NOT_OWNED;
    }
    IstioKind kind = result.kind().get();
    ConfigKey key = key(kind, document);
    if (!result.valid()) {
      boolean kept = entries.get(kind).containsKey(key);
      rejected.put(key, new Rejection(key, origin, result.messages(), kept));
      Counter.builder("bosun_config_rejections")
          .description("Istio objects skipped because they failed validation")
          .tag("kind", kind.kind())
          .register(meters)
          .increment();
      log.warn(
          "{}: {} skipped{}: {}",
          origin,
          key,
          kept ? " (its previous valid version stays in use)" : "",
          String.join("; ", result.violations().stream().map(Object::toString).toList()));
      return Outcome.REJECTED;
    }
    rejected.remove(key);
    ConfigEntry entry = entry(key, document);
    ConfigEntry previous = entries.get(kind).put(key, entry);
    if (previous != null && previous.document().equals(entry.document())) {
      return Outcome.UNCHANGED;
    }
    log.info("{}: {} {}", origin, key, previous == null ? "added" : "updated");
    return Outcome.APPLIED;
  }

  /** Removes an object; returns whether a valid version of it was in use. */
  public synchronized boolean delete(ConfigKey key) {
    boolean wasRejected = rejected.remove(key) != null;
    boolean removed = entries.get(key.kind()).remove(key) != null;
    if (removed || wasRejected) {
      log.info("{} deleted", key);
    }
    return removed;
  }

  /** The valid objects of one kind, in key order. */
  public synchronized List<ConfigEntry> list(IstioKind kind) {
    return List.copyOf(entries.get(kind).values());
  }

  public synchronized Optional<ConfigEntry> get(ConfigKey key) {
    return Optional.ofNullable(entries.get(key.kind()).get(key));
  }

  /** Every valid object, by kind. */
  public synchronized Map<IstioKind, List<ConfigEntry>> all() {
    Map<IstioKind, List<ConfigEntry>> all = new EnumMap<>(IstioKind.class);
    entries.forEach((kind, byKey) -> all.put(kind, List.copyOf(byKey.values())));
    return all;
  }

  /** The objects skipped because they failed validation, in key order. */
  public List<Rejection> rejected() {
    List<Rejection> list = new ArrayList<>(rejected.values());
    list.sort((a, b) -> a.key().compareTo(b.key()));
    return list;
  }

  /** Keys of every stored object whose kind is one of {@code kinds}. */
  public synchronized List<ConfigKey> keys(Collection<IstioKind> kinds) {
    List<ConfigKey> keys = new ArrayList<>();
    kinds.forEach(kind -> keys.addAll(entries.get(kind).keySet()));
    return keys;
  }

  static ConfigKey key(IstioKind kind, JsonNode document) {
    JsonNode metadata = document.path("metadata");
    String namespace = metadata.path("namespace").asText("");
    return new ConfigKey(
        kind, namespace.isEmpty() ? "default" : namespace, metadata.path("name").asText());
  }

  private static ConfigEntry entry(ConfigKey key, JsonNode document) {
    JsonNode metadata = document.path("metadata");
    Object spec =
        IstioJson.json()
            .convertValue(
                document.has("spec") ? document.get("spec") : IstioJson.json().createObjectNode(),
                key.kind().specClass());
    Map<String, String> labels = new TreeMap<>();
    metadata
        .path("labels")
        .fields()
        .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    return new ConfigEntry(
        key,
        spec,
        created(metadata.path("creationTimestamp").asText(null)),
        labels,
        metadata.path("resourceVersion").asText(""),
        document);
  }

  /** Objects without a creation time (local files) sort as the oldest, by name. */
  private static Instant created(String timestamp) {
    if (timestamp == null || timestamp.isEmpty()) {
      return Instant.EPOCH;
    }
    try {
      return Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }
}
