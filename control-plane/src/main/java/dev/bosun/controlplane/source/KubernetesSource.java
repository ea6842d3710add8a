package dev.bosun.controlplane.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.mesh.MeshEvents;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the Kubernetes API with fabric8 shared informers: Services, EndpointSlices, Pods, Nodes,
 * Namespaces, Secrets (TLS credentials of gateways) and every Istio kind. Istio objects are watched
 * as untyped resources so the validator sees exactly what was stored (the typed model would drop
 * unknown enum values). The informers relist after watch expiry or an API server restart, and keep
 * their cache, so the mesh keeps its last known state while the API server is unreachable.
 */
public final class KubernetesSource implements AutoCloseable {
  public static final String NAME = "kubernetes";
  private static final Logger log = LoggerFactory.getLogger(KubernetesSource.class);
  private static final String ORIGIN = "kubernetes";

  private final KubernetesClient client;
  private final MeshEvents events;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

  public KubernetesSource(KubernetesClient client, MeshEvents events) {
    this.client = client;
    this.events = events;
  }

  /** Starts every informer; {@link MeshEvents#synced} is called once all have listed. */
  public KubernetesSource start() {
    List<CompletableFuture<Void>> syncs = new ArrayList<>();
    syncs.add(start(client.services().inAnyNamespace().runnableInformer(0), "Service"));
    syncs.add(
        start(
            client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0),
            "EndpointSlice"));
    syncs.add(start(client.pods().inAnyNamespace().runnableInformer(0), "Pod"));
    syncs.add(start(client.nodes().runnableInformer(0), "Node"));
    syncs.add(start(client.namespaces().runnableInformer(0), "Namespace"));
    // TLS Secrets for gateways' credentialName; Helm's release records are never TLS material.
    syncs.add(
        start(
            client
                .secrets()
                .inAnyNamespace()
                .withoutField("type", "helm.sh/release.v1")
                .runnableInformer(0),
            "Secret"));
    for (IstioKind kind : IstioKind.values()) {
      syncs.add(startIstio(kind));
    }
    CompletableFuture.allOf(syncs.toArray(CompletableFuture[]::new))
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                log.error("informers failed to start", error);
              } else {
                log.info("all {} informers synced", informers.size());
                events.synced(NAME);
              }
            });
    return this;
  }

  /** Whether every informer has completed its initial list. */
  public boolean synced() {
    return informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  private <T extends HasMetadata> CompletableFuture<Void> start(
      SharedIndexInformer<T> informer, String kind) {
    informer.addEventHandler(
        new ResourceEventHandler<T>() {
          @Override
          public void onAdd(T object) {
            events.kubernetesUpserted(object, ORIGIN);
          }

          @Override
          public void onUpdate(T old, T object) {
            events.kubernetesUpserted(object, ORIGIN);
          }

          @Override
          public void onDelete(T object, boolean finalStateUnknown) {
            events.kubernetesDeleted(object, ORIGIN);
          }
        });
    return run(informer, kind);
  }

  /**
   * The API resource Bosun reads {@code kind} through: its newest served version ({@code v1} for
   * most kinds; the API server converts from whatever version is stored).
   */
  public static ResourceDefinitionContext resource(IstioKind kind) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(kind.group().groupName())
        .withVersion(kind.newestVersion())
        .withKind(kind.kind())
        .withPlural(kind.plural())
        .withNamespaced(true)
        .build();
  }

  private CompletableFuture<Void> startIstio(IstioKind kind) {
    SharedIndexInformer<GenericKubernetesResource> informer =
        client.genericKubernetesResources(resource(kind)).inAnyNamespace().runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<GenericKubernetesResource>() {
          @Override
          public void onAdd(GenericKubernetesResource object) {
            events.istioUpserted(document(object), ORIGIN);
          }

          @Override
          public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource object) {
            events.istioUpserted(document(object), ORIGIN);
          }

          @Override
          public void onDelete(GenericKubernetesResource object, boolean finalStateUnknown) {
            String namespace = object.getMetadata().getNamespace();
            events.istioDeleted(
                new ConfigKey(
                    kind,
                    namespace == null ? "default" : namespace,
                    object.getMetadata().getName()),
                ORIGIN);
          }
        });
    return run(informer, kind.kind());
  }

  private CompletableFuture<Void> run(SharedIndexInformer<?> informer, String kind) {
    // Keep retrying (with the informer's backoff) when the API server is down or a CRD is
    // missing, instead of giving up on the first failed list.
    informer.exceptionHandler(
        (started, error) -> {
          log.warn("{} informer: {} (retrying)", kind, error.toString());
          return true;
        });
    informers.add(informer);
    return informer.start().toCompletableFuture();
  }

  private static JsonNode document(GenericKubernetesResource resource) {
    return IstioJson.json().valueToTree(resource);
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::stop);
  }
}
