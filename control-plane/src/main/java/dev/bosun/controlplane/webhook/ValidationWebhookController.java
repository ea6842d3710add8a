package dev.bosun.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import dev.bosun.controlplane.security.ReconcileQueue;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the ValidatingWebhookConfigurations of Bosun's revision pointing at Bosun, as istiod's
 * validation controller does: the {@code caBundle} of every webhook equal to the mesh root, and
 * {@code failurePolicy} switched from {@code Ignore} to {@code Fail} once the API server has been
 * seen calling the webhook (a dry-run create of an invalid Gateway is denied by it). It also keeps
 * the {@code caBundle} of the revision's MutatingWebhookConfigurations (sidecar injection) equal to
 * the root, leaving their failurePolicy as installed. Run by the leader only.
 */
public final class ValidationWebhookController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ValidationWebhookController.class);

  /** The annotation the webhook always rejects, for the readiness check; istiod's name. */
  public static final String ALWAYS_REJECT = "internal.istio.io/webhook-always-reject";

  private static final ResourceDefinitionContext GATEWAYS =
      new ResourceDefinitionContext.Builder()
          .withGroup("networking.istio.io")
          .withVersion("v1")
          .withKind("Gateway")
          .withPlural("gateways")
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;
  private final String namespace;
  private final String revision;
  private final Supplier<String> rootPem;
  private final boolean keepFailurePolicy;
  private final Duration resync;
  private ReconcileQueue queue;
  private SharedIndexInformer<ValidatingWebhookConfiguration> webhooks;
  private SharedIndexInformer<MutatingWebhookConfiguration> injectors;

  /** Reconcile keys of mutating configurations carry this prefix; validating ones none. */
  private static final String MUTATING = "mutating/";

  // Once the API server has been seen calling the webhook it stays so for this term.
  private volatile boolean webhookCalled;
  private volatile String lastReason = "";

  /**
   * @param revision the {@code istio.io/rev} label of the configurations to keep ({@code default})
   * @param keepFailurePolicy leave {@code failurePolicy} as installed (the chart pinned it)
   * @param resync how often every configuration is checked again, also without a change (a new root
   *     is taken up at the latest then)
   */
  public ValidationWebhookController(
      KubernetesClient client,
      String namespace,
      String revision,
      Supplier<String> rootPem,
      boolean keepFailurePolicy,
      Duration resync) {
    this.client = requireNonNull(client, "client");
    this.namespace = requireNonNull(namespace, "namespace");
    this.revision = requireNonNull(revision, "revision");
    this.rootPem = requireNonNull(rootPem, "rootPem");
    this.keepFailurePolicy = keepFailurePolicy;
    this.resync = requireNonNull(resync, "resync");
  }

  /** Starts watching and reconciling; called when this replica becomes leader. */
  public synchronized void start() {
    if (queue != null) {
      return;
    }
    webhookCalled = false;
    queue =
        new ReconcileQueue(
            "webhook configuration",
            this::reconcile,
            Duration.ofMillis(100),
            Duration.ofMinutes(1));
    ReconcileQueue current = queue;
    // Assigned before it starts: the first events are reconciled while start() still runs.
    webhooks =
        client
            .admissionRegistration()
            .v1()
            .validatingWebhookConfigurations()
            .withLabel("istio.io/rev", revision)
            .runnableInformer(resync.toMillis());
    webhooks.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(ValidatingWebhookConfiguration configuration) {
            current.add(configuration.getMetadata().getName());
          }

          @Override
          public void onUpdate(
              ValidatingWebhookConfiguration old, ValidatingWebhookConfiguration now) {
            current.add(now.getMetadata().getName());
          }

          @Override
          public void onDelete(ValidatingWebhookConfiguration configuration, boolean unknown) {}
        });
    webhooks.start();
    injectors =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withLabel("istio.io/rev", revision)
            .runnableInformer(resync.toMillis());
    injectors.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(MutatingWebhookConfiguration configuration) {
            current.add(MUTATING + configuration.getMetadata().getName());
          }

          @Override
          public void onUpdate(MutatingWebhookConfiguration old, MutatingWebhookConfiguration now) {
            current.add(MUTATING + now.getMetadata().getName());
          }

          @Override
          public void onDelete(MutatingWebhookConfiguration configuration, boolean unknown) {}
        });
    injectors.start();
  }

  /** Stops; called when this replica stops leading. */
  public synchronized void stop() {
    if (queue == null) {
      return;
    }
    webhooks.stop();
    injectors.stop();
    queue.close();
    queue = null;
  }

  private void reconcile(String key) {
    if (key.startsWith(MUTATING)) {
      reconcileMutating(key.substring(MUTATING.length()));
    } else {
      reconcileValidating(key);
    }
  }

  private String caBundle() {
    return Base64.getEncoder().encodeToString(rootPem.get().getBytes(StandardCharsets.US_ASCII));
  }

  /** Only the caBundle: injection's failurePolicy is the chart's to choose. */
  private void reconcileMutating(String name) {
    SharedIndexInformer<MutatingWebhookConfiguration> informer = injectors;
    MutatingWebhookConfiguration current =
        informer == null ? null : informer.getStore().getByKey(name);
    if (current == null) {
      return;
    }
    String caBundle = caBundle();
    if (current.getWebhooks().stream()
        .allMatch(w -> Objects.equals(w.getClientConfig().getCaBundle(), caBundle))) {
      return;
    }
    MutatingWebhookConfiguration updated = new MutatingWebhookConfigurationBuilder(current).build();
    for (MutatingWebhook webhook : updated.getWebhooks()) {
      webhook.getClientConfig().setCaBundle(caBundle);
    }
    client.admissionRegistration().v1().mutatingWebhookConfigurations().resource(updated).update();
    log.info("mutating webhook configuration {}: caBundle updated", name);
  }

  private void reconcileValidating(String name) {
    SharedIndexInformer<ValidatingWebhookConfiguration> informer = webhooks;
    if (informer == null) {
      return;
    }
    ValidatingWebhookConfiguration current = informer.getStore().getByKey(name);
    if (current == null) {
      return;
    }
    String caBundle = caBundle();
    boolean caChange =
        current.getWebhooks().stream()
            .anyMatch(w -> !Objects.equals(w.getClientConfig().getCaBundle(), caBundle));
    boolean ignoring =
        !keepFailurePolicy
            && current.getWebhooks().stream().anyMatch(w -> !"Fail".equals(w.getFailurePolicy()));
    if (!caChange && !ignoring) {
      return;
    }
    boolean failClosed = ignoring && webhookCalled();
    // The builder copies the nested objects, so the informer's cached one is left as it was.
    ValidatingWebhookConfiguration updated =
        new ValidatingWebhookConfigurationBuilder(current).build();
    for (ValidatingWebhook webhook : updated.getWebhooks()) {
      webhook.getClientConfig().setCaBundle(caBundle);
      if (failClosed) {
        webhook.setFailurePolicy("Fail");
      }
    }
    client
        .admissionRegistration()
        .v1()
        .validatingWebhookConfigurations()
        .resource(updated)
        .update();
    log.info(
        "validating webhook configuration {}: caBundle {}{}",
        name,
        caChange ? "updated" : "unchanged",
        failClosed ? ", failurePolicy Fail" : "");
    if (ignoring && !failClosed) {
      // Retried with backoff until the API server is seen calling the webhook.
      throw new IllegalStateException(
          "validating webhook configuration " + name + ": not switched to Fail yet: " + lastReason);
    }
  }

  /** Whether a dry-run create of an invalid Gateway is denied by the webhook, as istiod checks. */
  private boolean webhookCalled() {
    if (webhookCalled) {
      return true;
    }
    GenericKubernetesResource invalid =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("networking.istio.io/v1")
            .withKind("Gateway")
            .withNewMetadata()
            .withName("invalid-gateway")
            .withNamespace(namespace)
            .withLabels(Map.of("istio.io/rev", revision))
            .withAnnotations(Map.of(ALWAYS_REJECT, "true"))
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", Map.of()))
            .build();
    try {
      client
          .genericKubernetesResources(GATEWAYS)
          .inNamespace(namespace)
          .resource(invalid)
          .dryRun()
          .create();
      lastReason = "a dry-run create of an invalid Gateway was not denied by the webhook";
      return false;
    } catch (KubernetesClientException e) {
      String message = String.valueOf(e.getMessage());
      if (message.contains("denied the request")) {
        log.info("the API server calls the validation webhook; switching it to fail closed");
        webhookCalled = true;
        return true;
      }
      lastReason = "the dry-run create of an invalid Gateway failed otherwise: " + message;
      return false;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
