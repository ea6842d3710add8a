package dev.bosun.controlplane.security;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the mesh root certificate in ConfigMap {@value #CONFIG_MAP_NAME} of every namespace, where
 * the stock Istio sidecar and gateway agents read it to trust the control plane, the way istiod's
 * namespace controller does.
 *
 * <p>Publishing runs between {@link #start()} and {@link #stop()}, which a {@link LeaderElection}
 * calls so that one replica writes. While publishing it watches Namespaces and the {@value
 * #CONFIG_MAP_NAME} ConfigMaps, and reconciles a namespace whenever either changes: a missing
 * ConfigMap is created, one whose {@value #ROOT_CERT_KEY} differs from the current root is
 * corrected (other keys are kept), a deleted one comes back. API errors are logged, counted and
 * retried with backoff; they never stop the process.
 */
public final class RootCertPublisher implements AutoCloseable {
  /** The ConfigMap Istio's agents mount in every namespace. */
  public static final String CONFIG_MAP_NAME = "istio-ca-root-cert";

  /** The ConfigMap key holding the PEM root certificate. */
  public static final String ROOT_CERT_KEY = "root-cert.pem";

  /** The labels istiod puts on the ConfigMaps it creates. */
  public static final Map<String, String> LABELS = Map.of("istio.io/config", "true");

  /**
   * Kubernetes system namespaces that get no ConfigMap: istiod's list of namespaces never injected,
   * less {@code kube-system}, which istiod serves (mesh components such as ztunnel may run there).
   */
  public static final Set<String> SKIPPED_NAMESPACES =
      Set.of("kube-public", "kube-node-lease", "local-path-storage");

  private static final Logger log = LoggerFactory.getLogger(RootCertPublisher.class);
  private static final String TERMINATING = "Terminating";

  private final KubernetesClient client;
  private final Supplier<String> rootPem;
  private final Duration firstRetry;
  private final Duration maxRetry;
  private final Counter created;
  private final Counter updated;
  private final Counter errors;

  // Volatile so the metrics scrape never waits on a start or stop in progress.
  private volatile Session session;
  private boolean closed;

  /** A publisher with its meters in a private registry. */
  public RootCertPublisher(KubernetesClient client, Supplier<String> rootPem) {
    this(client, rootPem, new SimpleMeterRegistry());
  }

  /**
   * A publisher of {@code rootPem}, read each time a namespace is reconciled. Call {@link
   * #republish()} after the root changes.
   */
  public RootCertPublisher(
      KubernetesClient client, Supplier<String> rootPem, MeterRegistry meters) {
    this(client, rootPem, meters, Duration.ofMillis(100), Duration.ofSeconds(30));
  }

  RootCertPublisher(
      KubernetesClient client,
      Supplier<String> rootPem,
      MeterRegistry meters,
      Duration firstRetry,
      Duration maxRetry) {
    this.client = requireNonNull(client, "client");
    this.rootPem = requireNonNull(rootPem, "rootPem");
    requireNonNull(meters, "meters");
    this.firstRetry = firstRetry;
    this.maxRetry = maxRetry;
    this.created = writes(meters, "create");
    this.updated = writes(meters, "update");
    this.errors =
        Counter.builder("bosun_root_cert_errors")
            .description("Failed reads or writes of istio-ca-root-cert ConfigMaps (each retried)")
            .register(meters);
    Gauge.builder("bosun_root_cert_publishing", this, p -> p.publishing() ? 1 : 0)
        .description("1 while this replica publishes the root certificate (it leads), else 0")
        .register(meters);
  }

  private static Counter writes(MeterRegistry meters, String operation) {
    return Counter.builder("bosun_root_cert_writes")
        .description("istio-ca-root-cert ConfigMaps created or corrected")
        .tag("operation", operation)
        .register(meters);
  }

  /** Starts publishing (when this replica becomes leader); does nothing if already publishing. */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("root certificate publisher is closed");
    }
    if (session == null) {
      log.info("publishing the root certificate to {} in every namespace", CONFIG_MAP_NAME);
      session = new Session();
    }
  }

  /** Stops publishing (when this replica stops leading); {@link #start()} may follow. */
  public synchronized void stop() {
    if (session != null) {
      session.close();
      session = null;
      log.info("stopped publishing the root certificate");
    }
  }

  /** Whether this publisher is between {@link #start()} and {@link #stop()}. */
  public boolean publishing() {
    return session != null;
  }

  /** Whether publishing, with both caches listed and both watches open. */
  boolean synced() {
    Session current = session;
    return current != null && current.synced;
  }

  /** Checks every namespace again against the root now supplied, e.g. after a rotation. */
  public synchronized void republish() {
    if (session != null) {
      session.enqueueAll();
    }
  }

  @Override
  public synchronized void close() {
    stop();
    closed = true;
  }

  /** Whether {@code namespace} should hold the ConfigMap. */
  static boolean wanted(Namespace namespace) {
    if (SKIPPED_NAMESPACES.contains(namespace.getMetadata().getName())) {
      return false;
    }
    // Nothing can be created in a namespace being deleted; its ConfigMaps go with it.
    boolean terminating =
        namespace.getStatus() != null && TERMINATING.equals(namespace.getStatus().getPhase());
    return !terminating && namespace.getMetadata().getDeletionTimestamp() == null;
  }

  /** The watches and queue of one leadership term; fabric8 informers cannot be restarted. */
  private final class Session {
    private final SharedIndexInformer<Namespace> namespaces;
    private final SharedIndexInformer<ConfigMap> configMaps;
    private final ReconcileQueue queue;
    private volatile boolean synced;
    private volatile boolean open = true;

    Session() {
      queue = new ReconcileQueue(CONFIG_MAP_NAME, this::reconcile, firstRetry, maxRetry);
      namespaces = client.namespaces().runnableInformer(0);
      configMaps =
          client
              .configMaps()
              .inAnyNamespace()
              .withField("metadata.name", CONFIG_MAP_NAME)
              .runnableInformer(0);
      namespaces.addEventHandler(handler(ns -> ns.getMetadata().getName(), false));
      configMaps.addEventHandler(handler(cm -> cm.getMetadata().getNamespace(), true));
      CompletableFuture.allOf(start(namespaces, "Namespace"), start(configMaps, "ConfigMap"))
          .thenRun(
              () -> {
                // Until both caches are full a reconcile could take an existing ConfigMap for a
                // missing one; the sweep below covers whatever the handlers skipped meanwhile.
                synced = open;
                enqueueAll();
              });
    }

    private CompletableFuture<Void> start(SharedIndexInformer<?> informer, String kind) {
      informer.exceptionHandler(
          (started, error) -> {
            errors.increment();
            log.warn("{} informer: {} (retrying)", kind, error.toString());
            return true;
          });
      return informer.start().toCompletableFuture();
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler(
        Function<T, String> namespaceOf, boolean enqueueOnDelete) {
      Consumer<T> enqueue =
          object -> {
            if (synced) {
              queue.add(namespaceOf.apply(object));
            }
          };
      return new ResourceEventHandler<>() {
        @Override
        public void onAdd(T object) {
          enqueue.accept(object);
        }

        @Override
        public void onUpdate(T old, T object) {
          enqueue.accept(object);
        }

        @Override
        public void onDelete(T object, boolean finalStateUnknown) {
          if (enqueueOnDelete) {
            enqueue.accept(object);
          }
        }
      };
    }

    void enqueueAll() {
      if (synced) {
        namespaces.getStore().listKeys().forEach(queue::add);
      }
    }

    private void reconcile(String name) {
      try {
        Namespace namespace = namespaces.getStore().getByKey(name);
        if (namespace == null || !wanted(namespace)) {
          return;
        }
        String pem = rootPem.get();
        if (pem == null || pem.isBlank()) {
          log.debug("no root certificate yet; {} left as it is", name);
          return;
        }
        ConfigMap existing =
            configMaps.getStore().getByKey(Cache.namespaceKeyFunc(name, CONFIG_MAP_NAME));
        if (existing == null) {
          create(name, pem);
        } else {
          correct(existing, pem);
        }
      } catch (RuntimeException e) {
        errors.increment();
        throw e;
      }
    }

    private void create(String namespace, String pem) {
      ConfigMap configMap =
          new ConfigMapBuilder()
              .withNewMetadata()
              .withName(CONFIG_MAP_NAME)
              .withNamespace(namespace)
              .withLabels(LABELS)
              .endMetadata()
              .addToData(ROOT_CERT_KEY, pem)
              .build();
      try {
        client.configMaps().inNamespace(namespace).resource(configMap).create();
        created.increment();
        log.info("created ConfigMap {}/{}", namespace, CONFIG_MAP_NAME);
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          // The namespace went away since the cache saw it; nothing to publish there.
          log.debug("namespace {} is gone; no {} created", namespace, CONFIG_MAP_NAME);
          return;
        }
        if (e.getCode() == 409) {
          // Created since the cache looked: correct what is there now.
          ConfigMap current =
              client.configMaps().inNamespace(namespace).withName(CONFIG_MAP_NAME).get();
          if (current != null) {
            correct(current, pem);
            return;
          }
        }
        throw e;
      }
    }

    /**
     * Sets the root certificate key if it differs, keeping labels and other keys as istiod does.
     */
    private void correct(ConfigMap existing, String pem) {
      Map<String, String> data = existing.getData();
      if (data != null && pem.equals(data.get(ROOT_CERT_KEY))) {
        return;
      }
      ConfigMap corrected = new ConfigMapBuilder(existing).addToData(ROOT_CERT_KEY, pem).build();
      String namespace = existing.getMetadata().getNamespace();
      client.configMaps().inNamespace(namespace).resource(corrected).update();
      updated.increment();
      log.info("updated {} in ConfigMap {}/{}", ROOT_CERT_KEY, namespace, CONFIG_MAP_NAME);
    }

    void close() {
      open = false;
      synced = false;
      namespaces.stop();
      configMaps.stop();
      queue.close();
    }
  }
}
