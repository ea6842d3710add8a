package dev.bosun.controlplane.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.validation.ConfigValidator;
import dev.bosun.crd.validation.ValidationResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Decides one AdmissionReview for {@code /validate}: an Istio object is allowed or denied with
 * exactly the messages {@code bosun validate} prints for it. Pure apart from its counters, which
 * carry istiod's names ({@code galley_validation_passed}, {@code galley_validation_failed}).
 */
public final class ValidationWebhook implements AdmissionHandler {
  private final MeterRegistry meters;

  public ValidationWebhook(MeterRegistry meters) {
    this.meters = meters;
  }

  /**
   * The AdmissionReview to answer {@code review} with. A review that cannot be read is answered
   * with a denial that says why (the API server shows it to the user), as istiod does.
   */
  @Override
  public ObjectNode review(JsonNode review) {
    JsonNode request = review.path("request");
    ObjectNode answer = AdmissionReviews.answerTo(review);
    ObjectNode response = AdmissionReviews.response(answer);
    if (!request.isObject()) {
      failed("", "", "", "request");
      deny(response, "could not decode object: an AdmissionReview with no request");
      return answer;
    }
    String operation = request.path("operation").asText("");
    JsonNode kind = request.path("kind");
    String group = kind.path("group").asText("");
    String version = kind.path("version").asText("");
    String resource = request.path("resource").path("resource").asText("");
    if (!operation.equals("CREATE") && !operation.equals("UPDATE")) {
      // The webhook configuration sends only these; anything else is let through, as istiod does.
      failed(group, version, resource, "unsupported_operation");
      response.put("allowed", true);
      return answer;
    }
    JsonNode object = request.path("object");
    if (!object.isObject()) {
      failed(group, version, resource, "yaml_decode_error");
      deny(response, "cannot decode configuration: request.object is not an object");
      return answer;
    }
    ObjectNode document = ((ObjectNode) object).deepCopy();
    // The namespace of a create may be only in the request (the object's is filled in later).
    String namespace = request.path("namespace").asText("");
    if (!namespace.isEmpty() && document.path("metadata").path("namespace").asText("").isEmpty()) {
      JsonNode metadata = document.path("metadata");
      (metadata.isObject() ? (ObjectNode) metadata : document.putObject("metadata"))
          .put("namespace", namespace);
    }
    if (document
        .path("metadata")
        .path("annotations")
        .has(ValidationWebhookController.ALWAYS_REJECT)) {
      // The leader's check that the API server calls this webhook.
      failed(group, version, resource, "invalid_config");
      deny(
          response,
          "\"" + ValidationWebhookController.ALWAYS_REJECT + "\" annotation found, rejecting");
      return answer;
    }
    ValidationResult result = ConfigValidator.validate(document);
    if (!result.owned()) {
      // Istio kinds Bosun does not model yet are not Bosun's to refuse: they pass with a warning.
      failed(group, version, resource, "unknown_type");
      response.put("allowed", true);
      response
          .putArray("warnings")
          .add(
              document.path("apiVersion").asText("")
                  + " "
                  + document.path("kind").asText("")
                  + " is not validated by Bosun");
      return answer;
    }
    if (!result.valid()) {
      failed(group, version, resource, "invalid_config");
      deny(response, String.join("\n", result.messages()));
      return answer;
    }
    Counter.builder("galley_validation_passed")
        .description("Resource is valid.")
        .tag("group", group)
        .tag("version", version)
        .tag("resource", resource)
        .register(meters)
        .increment();
    response.put("allowed", true);
    return answer;
  }

  /** The answer to a body that is not an AdmissionReview at all. */
  @Override
  public ObjectNode undecodable(String why) {
    failed("", "", "", "request");
    ObjectNode answer = AdmissionReviews.envelope("admission.k8s.io/v1", "");
    deny(AdmissionReviews.response(answer), "could not decode body: " + why);
    return answer;
  }

  @Override
  public void httpError(int status) {
    Counter.builder("galley_validation_http_error")
        .description("Resource validation http serve errors")
        .tag("status", Integer.toString(status))
        .register(meters)
        .increment();
  }

  private static void deny(ObjectNode response, String message) {
    AdmissionReviews.deny(response, message);
  }

  private void failed(String group, String version, String resource, String reason) {
    Counter.builder("galley_validation_failed")
        .description("Resource validation failed.")
        .tag("group", group)
        .tag("version", version)
        .tag("resource", resource)
        .tag("reason", reason)
        .register(meters)
        .increment();
  }
}
