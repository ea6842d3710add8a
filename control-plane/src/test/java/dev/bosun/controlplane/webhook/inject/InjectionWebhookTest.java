package dev.bosun.controlplane.webhook.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.fge.jsonpatch.JsonPatch;
import dev.bosun.crd.IstioJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** What {@code /inject} answers besides a plain injection: skips, errors and re-injection. */
class InjectionWebhookTest {
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final InjectionWebhook webhook =
      new InjectionWebhook(
          new InjectionPolicy(true),
          new SidecarInjector(
              InjectionSettings.defaults("istio-system", ""), JsonNodeFactory.instance::objectNode),
          meters);

  private static ObjectNode pod(String yaml) throws Exception {
    return (ObjectNode) IstioJson.yaml().readTree(yaml);
  }

  private static final String PLAIN =
      """
      apiVersion: v1
      kind: Pod
      metadata: {name: app, namespace: shop}
      spec:
        containers: [{name: app, image: docker.io/example/app:1.0}]
      """;

  private double count(String name) {
    return meters.counter(name).count();
  }

  @Test
  void review_injectedPodAgain_changesNothing() throws Exception {
    JsonNode original =
        IstioJson.yaml().readTree(Files.readString(InjectionGoldenTest.DIR.resolve("probes.yaml")));
    JsonNode first = webhook.review(Reviews.create(original)).path("response");
    JsonNode injected =
        JsonPatch.fromJson(
                IstioJson.json().readTree(Base64.getDecoder().decode(first.path("patch").asText())))
            .apply(original);

    JsonNode again = webhook.review(Reviews.create(injected)).path("response");

    assertThat(again.path("allowed").asBoolean()).isTrue();
    assertThat(again.has("patch")).as(again.toString()).isFalse();
    assertThat(again.has("warnings")).isFalse();
    assertThat(count("sidecar_injection_skip")).isEqualTo(1);
  }

  @Test
  void review_podWithNoContainers_isAdmittedUnchangedWithAWarning() throws Exception {
    JsonNode response =
        webhook
            .review(
                Reviews.create(
                    pod(
                        """
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: empty, namespace: shop}
                        spec: {containers: []}
                        """)))
            .path("response");

    assertThat(response.path("uid").asText()).isEqualTo(Reviews.UID);
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar injection: Pod shop/empty: spec.containers: [] (expected: at least one"
                + " container); admitted without a sidecar");
    assertThat(count("sidecar_injection_failure")).isEqualTo(1);
  }

  @Test
  void review_noRequest_isAllowedWithTheReason() {
    ObjectNode review = IstioJson.json().createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");

    JsonNode response = webhook.review(review).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar injection: could not decode object: an AdmissionReview with no request");
  }

  @Test
  void undecodable_body_isAllowedWithTheReason() {
    JsonNode answer = webhook.undecodable("not a JSON AdmissionReview");

    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(answer.path("response").path("allowed").asBoolean()).isTrue();
    assertThat(answer.path("response").path("warnings").get(0).asText())
        .isEqualTo("sidecar injection: could not decode body: not a JSON AdmissionReview");
  }

  @Test
  void review_anotherKind_isAdmittedUnchangedWithAWarning() throws Exception {
    ObjectNode review = Reviews.create(pod(PLAIN));
    ((ObjectNode) review.path("request"))
        .putObject("kind")
        .put("group", "apps")
        .put("version", "v1")
        .put("kind", "Deployment");

    JsonNode response = webhook.review(review).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar injection: request.kind: apps/v1 Deployment (expected: /v1 Pod); admitted"
                + " unchanged");
  }

  @Test
  void review_objectNotAPod_isAdmittedUnchangedWithAWarning() throws Exception {
    ObjectNode review = Reviews.create(pod(PLAIN));
    ((ObjectNode) review.path("request")).put("object", "not a pod");

    JsonNode response = webhook.review(review).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar injection: request.object: not a Pod (expected: a pod object); admitted"
                + " unchanged");
  }

  @Test
  void review_badTrafficAnnotation_isAdmittedUnchangedNamingIt() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata"))
        .putObject("annotations")
        .put("traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/33");

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar injection: Pod shop/app: traffic.sidecar.istio.io/includeOutboundIPRanges:"
                + " \"10.0.0.0/33\" (expected: * or a comma-separated list of CIDRs); admitted"
                + " without a sidecar");
  }

  @Test
  void review_unknownTemplate_isAdmittedUnchangedNamingIt() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata"))
        .putObject("annotations")
        .put("inject.istio.io/templates", "spire");

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText())
        .contains(
            "inject.istio.io/templates: \"spire\" (expected: one of gateway, grpc-agent, sidecar;");
  }

  @Test
  void review_badProxyConfig_isAdmittedUnchangedNamingIt() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata"))
        .putObject("annotations")
        .put("proxy.istio.io/config", "[1, 2]");

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.has("patch")).isFalse();
    assertThat(response.path("warnings").get(0).asText())
        .contains("proxy.istio.io/config: array (expected: a ProxyConfig object)");
  }

  @Test
  void review_injectFalseLabel_skips() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata")).putObject("labels").put("sidecar.istio.io/inject", "false");

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    assertThat(count("sidecar_injection_skip")).isEqualTo(1);
    assertThat(count("sidecar_injection_requests")).isEqualTo(1);
  }

  @Test
  void review_hostNetwork_skips() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("spec")).put("hostNetwork", true);

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.has("patch")).isFalse();
    assertThat(count("sidecar_injection_skip")).isEqualTo(1);
  }

  @Test
  void review_kubeSystem_skips() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata")).put("namespace", "kube-system");

    assertThat(webhook.review(Reviews.create(pod)).path("response").has("patch")).isFalse();
  }

  @Test
  void review_update_passesUntouched() throws Exception {
    ObjectNode review = Reviews.create(pod(PLAIN));
    ((ObjectNode) review.path("request")).put("operation", "UPDATE");

    JsonNode response = webhook.review(review).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void review_invalidInjectValue_injectsByDefaultAndWarns() throws Exception {
    ObjectNode pod = pod(PLAIN);
    ((ObjectNode) pod.path("metadata")).putObject("labels").put("sidecar.istio.io/inject", "yes");

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.has("patch")).isTrue();
    assertThat(response.path("warnings").get(0).asText())
        .isEqualTo(
            "sidecar.istio.io/inject: \"yes\" (expected: true or false); the mesh default applies");
    assertThat(count("sidecar_injection_success")).isEqualTo(1);
  }

  @Test
  void decide_autoInjectDisabled_injectsOnlyPodsThatAsk() throws Exception {
    InjectionPolicy policy = new InjectionPolicy(false);
    var plain = IstioJson.yaml().readValue(PLAIN, io.fabric8.kubernetes.api.model.Pod.class);

    assertThat(policy.decide(plain, "shop").inject()).isFalse();
    plain.getMetadata().setAnnotations(java.util.Map.of("sidecar.istio.io/inject", "true"));
    assertThat(policy.decide(plain, "shop").inject()).isTrue();
  }
}
