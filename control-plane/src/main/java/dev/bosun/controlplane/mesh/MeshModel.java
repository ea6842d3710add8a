package dev.bosun.controlplane.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.JwksSource;
import dev.bosun.controlplane.push.DebounceLoop;
import dev.bosun.controlplane.push.Debouncer;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.registry.CredentialRegistry;
import dev.bosun.controlplane.registry.RegistryChange;
import dev.bosun.controlplane.registry.ServiceRegistry;
import dev.bosun.controlplane.security.JwksResolver;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutable side of the pipeline: applies source events to the registry and config store, turns
 * what changed into push requests, debounces them, and builds one immutable snapshot per push for
 * the listeners. Events may come from any thread; they are applied one at a time.
 */
public final class MeshModel implements MeshEvents, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MeshModel.class);

  private final MeshSettings settings;
  private final ServiceRegistry registry;
  private final CredentialRegistry credentials = new CredentialRegistry();
  private final ConfigStore store;
  private final SnapshotBuilder builder;
  private final Ticker ticker;
  private final Clock clock;
  private final MeterRegistry meters;
  private final ClusterChangeFilter clusterChanges;
  private final java.util.function.Supplier<MeshConfig> meshConfig;
  private final DebounceLoop loop;
  private final AtomicReference<MeshSnapshot> current = new AtomicReference<>();
  private final List<Consumer<SnapshotUpdate>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> pendingSources = new HashSet<>();
  private final Timer buildTimer;
  private long version;
  private boolean synced;
  private int failedBuilds;
  private String buildError;
  private final Counter buildErrors;
  private volatile JwksResolver jwks;

  /** The longest wait before a failed snapshot build is tried again. */
  private static final java.time.Duration MAX_RETRY = java.time.Duration.ofSeconds(30);

  private final java.util.concurrent.ScheduledExecutorService retries =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "bosun-snapshot-retry");
            thread.setDaemon(true);
            return thread;
          });

  /** A new snapshot and the request that caused it. */
  public record SnapshotUpdate(MeshSnapshot snapshot, PushRequest request) {}

  /**
   * @param sources the sources whose initial state the first snapshot waits for
   * @param clusterChanges whether an endpoints change also changes clusters (then the push is full)
   */
  public MeshModel(
      MeshSettings settings,
      MeterRegistry meters,
      Ticker ticker,
      Clock clock,
      Set<String> sources,
      ClusterChangeFilter clusterChanges) {
    this(settings, meters, ticker, clock, sources, clusterChanges, () -> MeshConfig.DEFAULTS);
  }

  /**
   * @param meshConfig the mesh config in force, read at every full build; call {@link
   *     #meshConfigChanged} when it changes
   */
  public MeshModel(
      MeshSettings settings,
      MeterRegistry meters,
      Ticker ticker,
      Clock clock,
      Set<String> sources,
      ClusterChangeFilter clusterChanges,
      java.util.function.Supplier<MeshConfig> meshConfig) {
    this.settings = settings;
    this.meshConfig = java.util.Objects.requireNonNull(meshConfig, "meshConfig");
    this.registry = new ServiceRegistry(settings.domainSuffix());
    this.store = new ConfigStore(meters);
    this.builder = new SnapshotBuilder(settings.rootNamespace(), settings.domainSuffix());
    this.ticker = ticker;
    this.clock = clock;
    this.meters = meters;
    this.clusterChanges = java.util.Objects.requireNonNull(clusterChanges, "clusterChanges");
    this.pendingSources.addAll(sources);
    this.buildTimer =
        Timer.builder("bosun_snapshot_build_time")
            .description("Time to build a mesh snapshot")
            .register(meters);
    this.buildErrors =
        Counter.builder("bosun_snapshot_build_errors")
            .description("Snapshot builds that failed (the last snapshot stayed in force)")
            .register(meters);
    Gauge.builder("pilot_services", current, c -> c.get() == null ? 0 : c.get().services().size())
        .description("Total services known to the control plane")
        .register(meters);
    this.loop =
        new DebounceLoop(
            new Debouncer(settings.debounceQuiet(), settings.debounceMax()), ticker, this::push);
    this.jwks = new JwksResolver(JwksResolver.Settings.defaults(), meters, this::jwksChanged);
  }

  /** Fetches RequestAuthentications' signing keys with {@code jwksSettings}; call before start. */
  public MeshModel jwks(JwksResolver.Settings jwksSettings) {
    JwksResolver old = jwks;
    jwks = new JwksResolver(jwksSettings, meters, this::jwksChanged);
    old.close();
    return this;
  }

  /** Why the last fetch of each JWKS failed, for those whose last fetch failed. */
  public Map<JwksSource, String> jwksErrors() {
    return jwks.errors();
  }

  /**
   * A source's signing keys changed: the RequestAuthentications that name it are pushed again, so
   * only the proxies they apply to get the new keys.
   */
  private void jwksChanged(JwksSource source) {
    PushRequest request = null;
    long now = ticker.nanos();
    for (ConfigEntry entry :
        store.all().getOrDefault(IstioKind.REQUEST_AUTHENTICATION, List.of())) {
      if (JwksResolver.sources(List.of(entry)).containsKey(source)) {
        PushRequest one = PushRequest.config(entry.key(), "JWKS of " + source + " changed", now);
        request = request == null ? one : request.merge(one);
      }
    }
    if (request != null) {
      submit(request);
    }
  }

  /** Starts the debounce thread. */
  public MeshModel start() {
    loop.start();
    return this;
  }

  public void addListener(Consumer<SnapshotUpdate> listener) {
    listeners.add(listener);
  }

  /** The latest snapshot, or null before the first push. */
  public MeshSnapshot snapshot() {
    return current.get();
  }

  /** Every source has synced and the first snapshot is built. */
  public synchronized boolean ready() {
    return synced && current.get() != null;
  }

  /** The sources that have not delivered their initial state yet. */
  public synchronized Set<String> pendingSources() {
    return Set.copyOf(pendingSources);
  }

  public ConfigStore store() {
    return store;
  }

  public synchronized Map<String, Integer> registryCounts() {
    return registry.counts();
  }

  public MeshSettings settings() {
    return settings;
  }

  // ---- events -------------------------------------------------------------------------------

  @Override
  public void kubernetesUpserted(HasMetadata object, String origin) {
    if (object instanceof io.fabric8.kubernetes.api.model.Secret secret) {
      if (credentials.upsert(secret)) {
        submitSecret(secret.getMetadata().getNamespace(), secret.getMetadata().getName(), "");
      }
      return;
    }
    RegistryChange change;
    synchronized (this) {
      change = upsert(object);
    }
    registryEvent(object, "update");
    submit(change, object.getKind() + " " + name(object));
  }

  @Override
  public void kubernetesDeleted(HasMetadata object, String origin) {
    String ns =
        object.getMetadata().getNamespace() == null
            ? "default"
            : object.getMetadata().getNamespace();
    String name = object.getMetadata().getName();
    if (object instanceof io.fabric8.kubernetes.api.model.Secret) {
      if (credentials.delete(ns, name)) {
        submitSecret(ns, name, " deleted");
      }
      return;
    }
    RegistryChange change;
    synchronized (this) {
      change = delete(object, ns, name);
    }
    registryEvent(object, "delete");
    submit(change, object.getKind() + " " + name(object) + " deleted");
  }

  private RegistryChange upsert(HasMetadata object) {
    if (object instanceof Service service) {
      return registry.upsertService(service);
    } else if (object instanceof EndpointSlice slice) {
      return registry.upsertEndpointSlice(slice);
    } else if (object instanceof Pod pod) {
      return registry.upsertPod(pod);
    } else if (object instanceof Node node) {
      return registry.upsertNode(node);
    } else if (object instanceof Namespace namespace) {
      registry.upsertNamespace(namespace);
    }
    return RegistryChange.NONE;
  }

  private RegistryChange delete(HasMetadata object, String ns, String name) {
    if (object instanceof Service) {
      return registry.deleteService(ns, name);
    } else if (object instanceof EndpointSlice) {
      return registry.deleteEndpointSlice(ns, name);
    } else if (object instanceof Pod) {
      return registry.deletePod(ns, name);
    } else if (object instanceof Node) {
      return registry.deleteNode(name);
    } else if (object instanceof Namespace) {
      registry.deleteNamespace(name);
    }
    return RegistryChange.NONE;
  }

  @Override
  public void istioUpserted(JsonNode document, String origin) {
    ConfigStore.Outcome outcome = store.put(document, origin);
    if (outcome == ConfigStore.Outcome.APPLIED) {
      ConfigKey key = keyOf(document);
      configEvent(key, "update");
      if (!key.kind().applied()) {
        log.warn(
            "{} ({}): accepted and stored, but Bosun does not apply {} objects yet: no proxy"
                + " configuration changes (listed under notApplied on /debug/configz)",
            key,
            origin,
            key.kind().kind());
        return;
      }
      submit(PushRequest.config(key, key + " changed", ticker.nanos()));
    }
  }

  @Override
  public void istioDeleted(ConfigKey key, String origin) {
    if (store.delete(key)) {
      configEvent(key, "delete");
      if (key.kind().applied()) {
        submit(PushRequest.config(key, key + " deleted", ticker.nanos()));
      }
    }
  }

  @Override
  public synchronized void synced(String source) {
    if (pendingSources.remove(source) && pendingSources.isEmpty()) {
      synced = true;
      log.info("all sources synced; building the first snapshot");
      loop.submit(PushRequest.everything("initial sync", ticker.nanos()));
    }
  }

  /** The mesh config changed: every proxy's configuration may change, so the push is full. */
  public void meshConfigChanged(String reason) {
    submit(PushRequest.everything(reason, ticker.nanos()));
  }

  private void submit(RegistryChange change, String reason) {
    if (change.isEmpty()) {
      return;
    }
    long now = ticker.nanos();
    if (!change.services().isEmpty()) {
      submit(PushRequest.services(change.services(), reason, now));
    }
    if (!change.endpoints().isEmpty()) {
      submit(PushRequest.endpoints(change.endpoints(), reason, now));
    }
  }

  private void submitSecret(String namespace, String name, String what) {
    String key = CredentialRegistry.key(namespace, name);
    submit(PushRequest.secrets(Set.of(key), "Secret " + key + what, ticker.nanos()));
  }

  private void submit(PushRequest request) {
    Counter.builder("pilot_push_triggers")
        .description("Push requests by what caused them")
        .tag("type", request.full() ? "config" : "endpoint")
        .register(meters)
        .increment();
    synchronized (this) {
      if (!synced) {
        return; // the initial push after sync covers it
      }
    }
    loop.submit(request);
  }

  // ---- pushes -------------------------------------------------------------------------------

  private MeshSnapshot fullSnapshot() {
    Map<IstioKind, List<ConfigEntry>> config = store.all();
    return builder.full(
        version,
        clock.instant(),
        new SnapshotBuilder.Inputs(
            Map.copyOf(registry.services()),
            registry::endpoints,
            config,
            List.copyOf(registry.pods()),
            meshConfig.get(),
            credentials.all(),
            jwks.keys(
                JwksResolver.sources(
                    config.getOrDefault(IstioKind.REQUEST_AUTHENTICATION, List.of())))));
  }

  /**
   * Builds the snapshot for a debounced request and hands it to the listeners. A build that fails
   * keeps the last snapshot in force, is counted and reported on {@code /ready}, and is retried
   * with backoff (the request stays due: later changes merge into it).
   */
  void push(PushRequest request) {
    try {
      build(request);
    } catch (RuntimeException e) {
      buildErrors.increment();
      long delay;
      synchronized (this) {
        failedBuilds++;
        delay = Math.min(MAX_RETRY.toMillis(), 500L << Math.min(failedBuilds - 1, 6));
        buildError = clock.instant() + ": " + e;
      }
      log.error(
          "snapshot build failed; the last snapshot stays in force, retrying in {} ms", delay, e);
      retries.schedule(() -> loop.submit(request), delay, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Why the last snapshot builds failed, or empty when the last one succeeded; proxies keep the
   * last snapshot that was built meanwhile.
   */
  public synchronized java.util.Optional<String> buildError() {
    return java.util.Optional.ofNullable(buildError);
  }

  private void build(PushRequest request) {
    MeshSnapshot snapshot;
    long start = ticker.nanos();
    synchronized (this) {
      MeshSnapshot previous = current.get();
      version++;
      if (request.full() || previous == null) {
        snapshot = fullSnapshot();
      } else {
        Map<String, List<Endpoint>> changed = new HashMap<>();
        for (String host : request.endpoints()) {
          changed.put(host, registry.endpoints(host));
        }
        Set<String> clustersChanged = clustersChanged(previous, changed);
        if (clustersChanged.isEmpty()) {
          snapshot =
              builder.withEndpoints(previous, version, clock.instant(), changed, credentials.all());
        } else {
          request =
              request.merge(
                  PushRequest.services(
                      clustersChanged,
                      "endpoints of "
                          + String.join(", ", clustersChanged)
                          + " change their clusters (identities or mTLS acceptance)",
                      request.startNanos()));
          snapshot = fullSnapshot();
        }
      }
      current.set(snapshot);
      failedBuilds = 0;
      buildError = null;
    }
    long elapsed = ticker.nanos() - start;
    buildTimer.record(elapsed, TimeUnit.NANOSECONDS);
    snapshot.conflicts().forEach(c -> log.warn("conflict: {}", c));
    log.info(
        "snapshot {} built ({} push, {} services, {} ms): {}",
        snapshot.version(),
        request.full() ? "full" : request.endpoints().isEmpty() ? "secrets-only" : "endpoints-only",
        snapshot.services().size(),
        String.format("%.2f", elapsed / 1e6),
        String.join(", ", request.reasons().stream().limit(5).toList())
            + (request.reasons().size() > 5 ? ", ..." : ""));
    SnapshotUpdate update = new SnapshotUpdate(snapshot, request);
    for (Consumer<SnapshotUpdate> listener : listeners) {
      try {
        listener.accept(update);
      } catch (RuntimeException e) {
        log.error("snapshot listener failed", e);
      }
    }
  }

  /** Hosts whose new endpoints change their clusters, not only the clusters' endpoints. */
  private Set<String> clustersChanged(MeshSnapshot previous, Map<String, List<Endpoint>> changed) {
    Set<String> hosts = new java.util.TreeSet<>();
    changed.forEach(
        (host, endpoints) -> {
          if (clusterChanges.changesClusters(previous, host, endpoints)) {
            hosts.add(host);
          }
        });
    return hosts;
  }

  private void registryEvent(HasMetadata object, String event) {
    Counter.builder("pilot_k8s_reg_events")
        .description("Kubernetes registry events")
        .tag(
            "type", object.getKind() == null ? object.getClass().getSimpleName() : object.getKind())
        .tag("event", event)
        .register(meters)
        .increment();
  }

  private void configEvent(ConfigKey key, String event) {
    Counter.builder("pilot_k8s_cfg_events")
        .description("Istio config events")
        .tag("type", key.kind().kind())
        .tag("event", event)
        .register(meters)
        .increment();
  }

  private static ConfigKey keyOf(JsonNode document) {
    var kind =
        dev.bosun.crd.IstioKind.of(
                document.path("apiVersion").asText(), document.path("kind").asText())
            .orElseThrow();
    String namespace = document.path("metadata").path("namespace").asText("");
    return new ConfigKey(
        kind,
        namespace.isEmpty() ? "default" : namespace,
        document.path("metadata").path("name").asText());
  }

  private static String name(HasMetadata object) {
    String ns = object.getMetadata().getNamespace();
    return ns == null ? object.getMetadata().getName() : ns + "/" + object.getMetadata().getName();
  }

  @Override
  public void close() {
    retries.shutdownNow();
    jwks.close();
    loop.close();
  }
}
