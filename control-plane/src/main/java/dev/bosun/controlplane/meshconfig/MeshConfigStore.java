package dev.bosun.controlplane.meshconfig;

import static java.util.Objects.requireNonNull;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh config in force. Each new text (from the ConfigMap or a file) is parsed; a good one
 * replaces the config and tells the listeners, a broken one is counted, logged with its reasons and
 * kept for {@code /debug/mesh} while the last good config stays, as istiod does. Command-line flags
 * given explicitly win over the YAML; the root namespace and trust domain are fixed once Bosun has
 * started ({@link #started}), and a later change is logged as needing a restart.
 */
public final class MeshConfigStore {
  private static final Logger log = LoggerFactory.getLogger(MeshConfigStore.class);

  /**
   * The flags given on the command line, which win over the mesh config.
   *
   * @param rootNamespace {@code --root-namespace}, when given
   * @param trustDomain {@code --trust-domain}, when given
   */
  public record Overrides(Optional<String> rootNamespace, Optional<String> trustDomain) {
    public static final Overrides NONE = new Overrides(Optional.empty(), Optional.empty());

    public Overrides {
      requireNonNull(rootNamespace, "rootNamespace");
      requireNonNull(trustDomain, "trustDomain");
    }
  }

  private final Overrides overrides;
  private final List<Consumer<MeshConfig>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> said = new HashSet<>();
  private final AtomicLong rejects = new AtomicLong();
  private volatile MeshConfig current;
  private volatile MeshConfig started;
  private volatile String source = "Istio's defaults (no mesh config read yet)";
  private volatile String lastError;
  private volatile List<String> warnings = List.of();

  public MeshConfigStore(Overrides overrides) {
    this.overrides = requireNonNull(overrides, "overrides");
    this.current = withFlags(MeshConfig.DEFAULTS, false);
  }

  /** The config in force. */
  public MeshConfig current() {
    return current;
  }

  /** Called with each new config in force (not for a text that changes nothing). */
  public void addListener(Consumer<MeshConfig> listener) {
    listeners.add(listener);
  }

  /** Mesh configs rejected so far. */
  public long rejects() {
    return rejects.get();
  }

  /** Why the last text was rejected, if the last one was. */
  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  /**
   * Fixes the root namespace and trust domain at what is in force now: the CA, the informers and
   * the snapshot builder have read them.
   */
  public synchronized MeshConfig started() {
    started = current;
    return current;
  }

  /**
   * Applies the MeshConfig YAML {@code yaml} read from {@code origin}; null means there is none
   * (the ConfigMap or its {@code mesh} key is missing), which is Istio's defaults.
   *
   * @return whether the config in force changed
   */
  public synchronized boolean update(String yaml, String origin) {
    MeshConfigParser.Result result;
    try {
      result = MeshConfigParser.parse(yaml);
    } catch (MeshConfigException e) {
      rejects.incrementAndGet();
      lastError = origin + ": " + e.getMessage();
      log.warn(
          "mesh config from {} rejected, keeping the last good one: {}", origin, e.getMessage());
      return false;
    }
    lastError = null;
    warnings = result.warnings();
    for (String warning : result.warnings()) {
      once("mesh config: " + warning);
    }
    MeshConfig next = withFlags(result.config(), true);
    if (started != null) {
      next = keepIdentity(next);
    }
    source = yaml == null ? origin + ": none, so Istio's defaults" : origin;
    if (next.document().equals(current.document())) {
      return false;
    }
    current = next;
    log.info("mesh config from {} applied", origin);
    for (Consumer<MeshConfig> listener : listeners) {
      try {
        listener.accept(next);
      } catch (RuntimeException e) {
        log.error("mesh config listener failed", e);
      }
    }
    return true;
  }

  /** The flags' root namespace and trust domain over the config's, said once each. */
  private MeshConfig withFlags(MeshConfig config, boolean tell) {
    String root = overrides.rootNamespace().orElse(config.rootNamespace());
    String trust = overrides.trustDomain().orElse(config.trustDomain());
    if (tell && !root.equals(config.rootNamespace())) {
      once(
          "--root-namespace "
              + root
              + " overrides meshConfig rootNamespace "
              + config.rootNamespace());
    }
    if (tell && !trust.equals(config.trustDomain())) {
      once("--trust-domain " + trust + " overrides meshConfig trustDomain " + config.trustDomain());
    }
    return root.equals(config.rootNamespace()) && trust.equals(config.trustDomain())
        ? config
        : config.withIdentity(root, trust);
  }

  /** Once started, the root namespace and trust domain stay; a change waits for a restart. */
  private MeshConfig keepIdentity(MeshConfig config) {
    if (!config.rootNamespace().equals(started.rootNamespace())) {
      once(
          "mesh config: rootNamespace "
              + config.rootNamespace()
              + " differs from "
              + started.rootNamespace()
              + " in use; restart Bosun to apply it");
    }
    if (!config.trustDomain().equals(started.trustDomain())) {
      once(
          "mesh config: trustDomain "
              + config.trustDomain()
              + " differs from "
              + started.trustDomain()
              + " in use; restart Bosun to apply it");
    }
    return config.withIdentity(started.rootNamespace(), started.trustDomain());
  }

  private void once(String message) {
    if (said.add(message)) {
      log.warn(message);
    }
  }

  /** What {@code /debug/mesh} shows: the config in force, where it came from, the last error. */
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("source", source);
    status.put("lastError", lastError);
    status.put("rejects", rejects.get());
    status.put("warnings", warnings);
    status.put("config", current.document());
    return status;
  }
}
