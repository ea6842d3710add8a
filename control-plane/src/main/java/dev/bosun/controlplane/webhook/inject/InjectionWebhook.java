package dev.bosun.controlplane.webhook.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.controlplane.webhook.AdmissionHandler;
import dev.bosun.controlplane.webhook.AdmissionReviews;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers AdmissionReviews for {@code /inject}: a pod that should get a sidecar is allowed with a
 * JSON patch from the pod the API server sent to the injected one. A request the webhook cannot
 * handle (not a pod, a pod with nothing to inject into, a bad annotation) is allowed unchanged with
 * a warning that says why, so a broken pod never blocks its namespace. Counted under istiod's
 * {@code sidecar_injection_*} names.
 */
public final class InjectionWebhook implements AdmissionHandler {
  private static final Logger log = LoggerFactory.getLogger(InjectionWebhook.class);

  private final InjectionPolicy policy;
  private final SidecarInjector injector;
  private final MeterRegistry meters;

  public InjectionWebhook(InjectionPolicy policy, SidecarInjector injector, MeterRegistry meters) {
    this.policy = requireNonNull(policy, "policy");
    this.injector = requireNonNull(injector, "injector");
    this.meters = requireNonNull(meters, "meters");
  }

  @Override
  public ObjectNode review(JsonNode review) {
    count("sidecar_injection_requests", "Total number of sidecar injection requests.");
    ObjectNode answer = AdmissionReviews.answerTo(review);
    ObjectNode response = AdmissionReviews.response(answer);
    JsonNode request = review.path("request");
    if (!request.isObject()) {
      return failed(answer, "could not decode object: an AdmissionReview with no request");
    }
    JsonNode kind = request.path("kind");
    if (!kind.path("kind").asText().equals("Pod") || !kind.path("group").asText().isEmpty()) {
      return failed(
          answer,
          "request.kind: "
              + kind.path("group").asText()
              + "/"
              + kind.path("version").asText()
              + " "
              + kind.path("kind").asText()
              + " (expected: /v1 Pod); admitted unchanged");
    }
    JsonNode object = request.path("object");
    Pod pod;
    try {
      pod = Serialization.jsonMapper().treeToValue(object, Pod.class);
    } catch (Exception e) {
      pod = null;
    }
    if (!object.isObject() || pod == null || pod.getMetadata() == null) {
      return failed(
          answer, "request.object: not a Pod (expected: a pod object); admitted unchanged");
    }
    String namespace = pod.getMetadata().getNamespace();
    if (namespace == null || namespace.isEmpty()) {
      namespace = request.path("namespace").asText("");
      pod.getMetadata().setNamespace(namespace);
    }
    pod.getMetadata().setManagedFields(null);
    String operation = request.path("operation").asText("");
    if (!operation.equals("CREATE")) {
      // The webhook configuration sends only creates; anything else passes untouched.
      response.put("allowed", true);
      return answer;
    }
    InjectionPolicy.Decision decision = policy.decide(pod, namespace);
    decision.warnings().forEach(w -> response.withArray("warnings").add(w));
    if (!decision.inject()) {
      log.debug("{}: not injected: {}", SidecarInjector.describe(pod), decision.reason());
      count("sidecar_injection_skip", "Total number of skipped sidecar injection requests.");
      response.put("allowed", true);
      return answer;
    }
    try {
      SidecarInjector.Injection injection = injector.inject(pod, namespace);
      JsonNode before = Serialization.jsonMapper().valueToTree(pod);
      JsonNode after = Serialization.jsonMapper().valueToTree(injection.pod());
      // Only add, remove and replace, as istiod's patches: the plainest for a reader to check.
      JsonNode patch =
          JsonDiff.asJson(
              before,
              after,
              EnumSet.of(
                  DiffFlags.OMIT_MOVE_OPERATION,
                  DiffFlags.OMIT_COPY_OPERATION,
                  DiffFlags.OMIT_VALUE_ON_REMOVE));
      injection.warnings().forEach(w -> response.withArray("warnings").add(w));
      response.put("allowed", true);
      response.put(
          "patch",
          Base64.getEncoder()
              .encodeToString(
                  IstioJson.json().writeValueAsString(patch).getBytes(StandardCharsets.UTF_8)));
      response.put("patchType", "JSONPatch");
      count("sidecar_injection_success", "Total number of successful sidecar injection requests.");
      log.info("{}: injected", SidecarInjector.describe(pod));
      return answer;
    } catch (InjectionException e) {
      return failed(
          answer,
          SidecarInjector.describe(pod) + ": " + e.getMessage() + "; admitted without a sidecar");
    } catch (RuntimeException | com.fasterxml.jackson.core.JsonProcessingException e) {
      log.warn("{}: injection failed", SidecarInjector.describe(pod), e);
      return failed(
          answer,
          SidecarInjector.describe(pod)
              + ": injection failed: "
              + e
              + "; admitted without a sidecar");
    }
  }

  @Override
  public ObjectNode undecodable(String why) {
    ObjectNode answer = AdmissionReviews.envelope("admission.k8s.io/v1", "");
    return failed(answer, "could not decode body: " + why);
  }

  @Override
  public void httpError(int status) {
    count("sidecar_injection_failure", "Total number of failed sidecar injection requests.");
  }

  /** Allowed unchanged, with the reason as a warning (kubectl prints it) and a failure counted. */
  private ObjectNode failed(ObjectNode answer, String why) {
    count("sidecar_injection_failure", "Total number of failed sidecar injection requests.");
    log.warn("sidecar injection: {}", why);
    AdmissionReviews.allowWithWarning(
        AdmissionReviews.response(answer), "sidecar injection: " + why);
    return answer;
  }

  private void count(String name, String description) {
    Counter.builder(name).description(description).register(meters).increment();
  }
}
