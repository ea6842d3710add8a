package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.ca.Pem;
import dev.bosun.controlplane.security.TokenReviews;
import dev.bosun.crd.IstioJson;
import dev.bosun.e2e.install.Chart;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The admission webhooks as a cluster meets them. Validation: the chart's
 * ValidatingWebhookConfiguration installed with a {@code url} clientConfig at Bosun's webhook port
 * (Bosun runs outside the cluster), Bosun running under the chart's ServiceAccount, its leader
 * keeping the {@code caBundle} equal to the mesh root. Against a real API server, the API server
 * itself calls the webhook: the leader switches {@code failurePolicy} to {@code Fail} once it has
 * seen it do so, an invalid object is refused with the validator's message and a valid one is
 * stored. The mock API server calls no webhooks, so there the test sends the AdmissionReviews the
 * API server would send, to the URL and trusting the caBundle stored in the configuration, and
 * checks that the policy stays {@code Ignore}, since the leader never saw the webhook called.
 *
 * <p>On a real cluster the API server must reach {@code https://<bosun.e2e.webhookHost>:<port>}
 * (default {@code localhost}: the API server runs on the test's machine).
 */
@EnableKubernetesMockClient(crud = true)
class WebhookScenarioTest {
  private static final String REVISION = "hooks";
  private static final String HOST = System.getProperty("bosun.e2e.webhookHost", "localhost");

  KubernetesClient client;
  KubernetesMockServer server;
  private MeshWorld world;

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  private static final String INVALID =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: bad-weights, namespace: e2e, labels: {istio.io/rev: hooks}}
      spec:
        hosts: [reviews]
        http:
          - route:
              - {destination: {host: reviews}, weight: -5}
      """;

  private static final String VALID =
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: good-weights, namespace: e2e, labels: {istio.io/rev: hooks}}
      spec:
        hosts: [reviews]
        http:
          - route:
              - {destination: {host: reviews}, weight: 100}
      """;

  @Test
  void invalidIstioConfig_isDeniedWithTheValidatorsMessage_throughTheChartsWebhook()
      throws Exception {
    TokenReviews.install(server);
    world = new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"));
    String url = "https://" + HOST + ":" + world.webhookPort + "/validate";
    world.installChart(
        Chart.documents(
            Chart.template(
                world.caNamespace, Map.of("revision", REVISION, "validation.url", url), false)));
    world.runAs("istiod").startBosun("--revision", REVISION, "--serving-dns-name", HOST);
    String root = world.publishedRoot();
    String name = "istio-validator-" + REVISION + "-" + world.caNamespace;

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> root.equals(pem(webhook(name).getClientConfig().getCaBundle())));
    ValidatingWebhook webhook = webhook(name);
    assertThat(webhook.getClientConfig().getUrl()).isEqualTo(url);
    String message =
        world.local(
            "VirtualService e2e/bad-weights: spec.http[0].route[0].weight: -5: negative weight"
                + " (expected: >= 0)");

    if (MeshWorld.realCluster()) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "Fail".equals(webhook(name).getFailurePolicy()));
      KubernetesClientException denied =
          catchThrowableOfType(KubernetesClientException.class, () -> world.apply(INVALID));
      assertThat(denied).as("the API server refused the invalid object").isNotNull();
      assertThat(denied.getMessage()).contains("denied the request").contains(message);
      world.apply(VALID);
      return;
    }
    JsonNode refused = review(webhook, INVALID);
    assertThat(refused.path("allowed").asBoolean()).isFalse();
    assertThat(refused.path("status").path("message").asText()).contains(message);
    assertThat(review(webhook, VALID).path("allowed").asBoolean()).isTrue();
    assertThat(webhook(name).getFailurePolicy())
        .as("the mock never calls the webhook, so the leader must not rely on it")
        .isEqualTo("Ignore");
  }

  @Test
  void aPodInALabelledNamespace_isStoredWithTheSidecar() throws Exception {
    TokenReviews.install(server);
    world = new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"));
    String url = "https://" + HOST + ":" + world.webhookPort + "/inject";
    List<JsonNode> chart =
        Chart.documents(
            Chart.template(
                world.caNamespace,
                Map.of(
                    "revision",
                    REVISION,
                    "sidecarInjectorWebhook.url",
                    url,
                    "meshConfig.defaultConfig.proxyMetadata.BOSUN_E2E",
                    "from-mesh-config"),
                false));
    String name =
        chart.stream()
            .filter(d -> d.path("kind").asText().equals("MutatingWebhookConfiguration"))
            .map(d -> d.path("metadata").path("name").asText())
            .findFirst()
            .orElseThrow(() -> new AssertionError("no MutatingWebhookConfiguration rendered"));
    world.installChart(chart);
    world.runAs("istiod").startBosun("--revision", REVISION, "--serving-dns-name", HOST);
    String root = world.publishedRoot();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> root.equals(pem(injector(name).getClientConfig().getCaBundle())));
    var injector = injector(name);
    assertThat(injector.getClientConfig().getUrl()).isEqualTo(url);
    assertThat(injector.getNamespaceSelector().getMatchExpressions())
        .anySatisfy(
            e -> {
              assertThat(e.getKey()).isEqualTo("istio.io/rev");
              assertThat(e.getValues()).containsExactly(REVISION);
            });

    String apps = world.namespace + "-apps";
    world
        .client
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName(apps)
                .addToLabels("istio.io/rev", REVISION)
                .endMetadata()
                .build())
        .create();
    // A bare API server has no controller manager to create ServiceAccounts, and refuses pods
    // whose ServiceAccount does not exist.
    ServiceAccounts.ensure(world.client, apps, "ratings");
    Pod pod =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("ratings-v1")
            .withNamespace(apps)
            .addToLabels("app", "ratings")
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("ratings")
            .addNewContainer()
            .withName("ratings")
            .withImage("docker.io/istio/examples-bookinfo-ratings-v1:1.20.2")
            .addNewPort()
            .withContainerPort(9080)
            .endPort()
            .endContainer()
            .endSpec()
            .build();

    Pod stored;
    if (MeshWorld.realCluster()) {
      // The API server calls /inject itself and stores what the patch makes of the pod.
      stored = world.client.pods().inNamespace(apps).resource(pod).create();
    } else {
      JsonNode answer =
          review(
              url,
              injector.getClientConfig().getCaBundle(),
              createReview("pods", IstioJson.json().valueToTree(pod)));
      assertThat(answer.path("allowed").asBoolean()).isTrue();
      assertThat(answer.path("patchType").asText()).isEqualTo("JSONPatch");
      JsonNode patch =
          IstioJson.json().readTree(Base64.getDecoder().decode(answer.path("patch").asText()));
      JsonNode patched =
          io.fabric8.zjsonpatch.JsonPatch.apply(patch, IstioJson.json().valueToTree(pod));
      stored = IstioJson.json().treeToValue(patched, Pod.class);
    }
    assertThat(stored.getSpec().getInitContainers())
        .extracting(io.fabric8.kubernetes.api.model.Container::getName)
        .contains("istio-init");
    var proxy =
        stored.getSpec().getContainers().stream()
            .filter(c -> c.getName().equals("istio-proxy"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no istio-proxy in " + stored.getSpec()));
    assertThat(proxy.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("CA_ADDR");
              assertThat(e.getValue())
                  .isEqualTo("istiod-" + REVISION + "." + world.caNamespace + ".svc:15012");
            });
    assertThat(proxy.getEnv())
        .as("the chart's meshConfig reaches the proxy through the mesh ConfigMap")
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("PROXY_CONFIG");
              assertThat(e.getValue()).contains("\"BOSUN_E2E\":\"from-mesh-config\"");
            });
    assertThat(stored.getMetadata().getAnnotations()).containsKey("sidecar.istio.io/status");
    assertThat(stored.getSpec().getContainers())
        .extracting(io.fabric8.kubernetes.api.model.Container::getName)
        .startsWith("ratings");
  }

  private io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook injector(
      String name) {
    var configuration =
        world
            .client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(name)
            .get();
    assertThat(configuration).as("MutatingWebhookConfiguration " + name).isNotNull();
    return configuration.getWebhooks().get(0);
  }

  private ValidatingWebhook webhook(String name) {
    var configuration =
        world
            .client
            .admissionRegistration()
            .v1()
            .validatingWebhookConfigurations()
            .withName(name)
            .get();
    assertThat(configuration).as("ValidatingWebhookConfiguration " + name).isNotNull();
    return configuration.getWebhooks().get(0);
  }

  /** The PEM of a webhook configuration's caBundle (base64), or null while it has none. */
  private static String pem(String caBundle) {
    return caBundle == null
        ? null
        : new String(Base64.getDecoder().decode(caBundle), StandardCharsets.UTF_8);
  }

  /** The AdmissionReview the API server sends for a create of {@code yaml}, and the answer. */
  private JsonNode review(ValidatingWebhook webhook, String yaml) throws Exception {
    JsonNode object = IstioJson.yaml().readTree(world.local(yaml));
    return review(
        webhook.getClientConfig().getUrl(),
        webhook.getClientConfig().getCaBundle(),
        createReview("virtualservices", object));
  }

  /**
   * The AdmissionReview the API server sends for a create of {@code object}, a {@code resource} of
   * the object's own apiVersion and kind.
   */
  private static ObjectNode createReview(String resource, JsonNode object) {
    String apiVersion = object.path("apiVersion").asText();
    String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
    ObjectNode review = IstioJson.json().createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", java.util.UUID.randomUUID().toString());
    request
        .putObject("kind")
        .put("group", group)
        .put("version", version)
        .put("kind", object.path("kind").asText());
    request
        .putObject("resource")
        .put("group", group)
        .put("version", version)
        .put("resource", resource);
    request.put("name", object.path("metadata").path("name").asText());
    request.put("namespace", object.path("metadata").path("namespace").asText());
    request.put("operation", "CREATE");
    request.set("object", object);
    return review;
  }

  /**
   * POSTs {@code review} to {@code url} over TLS trusting only {@code caBundle} (base64 PEM, as a
   * webhook configuration stores it), as the API server does; the answer's response.
   */
  private static JsonNode review(String url, String caBundle, ObjectNode review) throws Exception {
    HttpClient http = HttpClient.newBuilder().sslContext(trusting(pem(caBundle))).build();
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(review.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode answer = IstioJson.json().readTree(response.body()).path("response");
    assertThat(answer.path("uid").asText())
        .as("the answer carries the request's uid")
        .isEqualTo(review.path("request").path("uid").asText());
    return answer;
  }

  private static SSLContext trusting(String pem) throws Exception {
    List<X509Certificate> roots = Pem.certificates(pem);
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    for (int i = 0; i < roots.size(); i++) {
      store.setCertificateEntry("root-" + i, roots.get(i));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trust.getTrustManagers(), null);
    return tls;
  }
}
