package dev.bosun.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The leader's upkeep of the webhook configurations on the mock API server, which stores objects
 * but never calls webhooks: the caBundle follows the root, and failurePolicy stays Ignore because
 * the API server was not seen calling the webhook (the e2e suite's real-cluster mode sees Fail).
 */
@EnableKubernetesMockClient(crud = true)
class ValidationWebhookControllerTest {
  KubernetesClient client;
  private ValidationWebhookController controller;

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
  }

  private void install(String name, String revision) {
    client
        .admissionRegistration()
        .v1()
        .validatingWebhookConfigurations()
        .resource(
            new ValidatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("istio.io/rev", revision)
                .endMetadata()
                .addNewWebhook()
                .withName("validation.istio.io")
                .withNewClientConfig()
                .withNewService()
                .withName("istiod")
                .withNamespace("istio-system")
                .withPath("/validate")
                .endService()
                .endClientConfig()
                .withFailurePolicy("Ignore")
                .withSideEffects("None")
                .withAdmissionReviewVersions("v1")
                .endWebhook()
                .build())
        .create();
  }

  private ValidatingWebhook webhook(String name) {
    ValidatingWebhookConfiguration configuration =
        client.admissionRegistration().v1().validatingWebhookConfigurations().withName(name).get();
    return configuration.getWebhooks().get(0);
  }

  private void awaitCaBundle(String root) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                base64(root)
                    .equals(webhook("istiod-default-validator").getClientConfig().getCaBundle()));
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void start_patchesCaBundleOfItsRevisionOnly_andFollowsANewRoot() {
    install("istiod-default-validator", "default");
    install("istio-validator-canary-istio-system", "canary");
    AtomicReference<String> root = new AtomicReference<>("-----BEGIN CERTIFICATE-----\nA\n");
    controller =
        new ValidationWebhookController(
            client, "istio-system", "default", root::get, false, Duration.ofMillis(500));
    controller.start();

    awaitCaBundle(root.get());
    assertThat(webhook("istio-validator-canary-istio-system").getClientConfig().getCaBundle())
        .as("another revision's configuration is not Bosun's")
        .isNull();

    root.set("-----BEGIN CERTIFICATE-----\nB\n");
    awaitCaBundle(root.get());
    assertThat(webhook("istiod-default-validator").getFailurePolicy())
        .as("no API server called the webhook, so it stays fail-open")
        .isEqualTo("Ignore");
  }

  @Test
  void stop_leavesConfigurationsAlone() throws Exception {
    controller =
        new ValidationWebhookController(
            client, "istio-system", "default", () -> "root", false, Duration.ofMillis(200));
    controller.start();
    controller.stop();
    install("istiod-default-validator", "default");
    Thread.sleep(1000);
    assertThat(webhook("istiod-default-validator").getClientConfig().getCaBundle()).isNull();
    assertThat(
            client.admissionRegistration().v1().validatingWebhookConfigurations().list().getItems())
        .extracting(c -> c.getMetadata().getName())
        .isEqualTo(List.of("istiod-default-validator"));
  }

  private void installInjector(String name, String revision) {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("istio.io/rev", revision)
                .endMetadata()
                .addNewWebhook()
                .withName("rev.namespace.sidecar-injector.istio.io")
                .withNewClientConfig()
                .withNewService()
                .withName("istiod")
                .withNamespace("istio-system")
                .withPath("/inject")
                .endService()
                .endClientConfig()
                .withFailurePolicy("Fail")
                .withSideEffects("None")
                .withAdmissionReviewVersions("v1")
                .endWebhook()
                .build())
        .create();
  }

  private MutatingWebhook injector(String name) {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(name)
        .get()
        .getWebhooks()
        .get(0);
  }

  @Test
  void start_patchesCaBundleOfItsRevisionsInjectorsOnly_keepingTheirFailurePolicy() {
    installInjector("istio-sidecar-injector", "default");
    installInjector("istio-sidecar-injector-canary", "canary");
    AtomicReference<String> root = new AtomicReference<>("-----BEGIN CERTIFICATE-----\nA\n");
    controller =
        new ValidationWebhookController(
            client, "istio-system", "default", root::get, false, Duration.ofMillis(500));
    controller.start();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                base64(root.get())
                    .equals(injector("istio-sidecar-injector").getClientConfig().getCaBundle()));
    root.set("-----BEGIN CERTIFICATE-----\nB\n");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                base64(root.get())
                    .equals(injector("istio-sidecar-injector").getClientConfig().getCaBundle()));
    assertThat(injector("istio-sidecar-injector").getFailurePolicy()).isEqualTo("Fail");
    assertThat(injector("istio-sidecar-injector-canary").getClientConfig().getCaBundle())
        .as("another revision's injector is not Bosun's")
        .isNull();
  }
}
