package dev.bosun.controlplane.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;

/** The AdmissionReview v1 envelope every webhook answers in, shared so none rebuilds it. */
public final class AdmissionReviews {
  private AdmissionReviews() {}

  /** An answer to {@code review}: its apiVersion, and a response carrying the request's uid. */
  public static ObjectNode answerTo(JsonNode review) {
    return envelope(
        review.path("apiVersion").asText("admission.k8s.io/v1"),
        review.path("request").path("uid").asText(""));
  }

  /** An AdmissionReview answer with its response's uid and nothing decided yet. */
  public static ObjectNode envelope(String apiVersion, String uid) {
    ObjectNode answer = IstioJson.json().createObjectNode();
    answer.put("apiVersion", apiVersion);
    answer.put("kind", "AdmissionReview");
    answer.putObject("response").put("uid", uid);
    return answer;
  }

  /** The response object of an answer made by {@link #envelope}. */
  public static ObjectNode response(ObjectNode answer) {
    return (ObjectNode) answer.get("response");
  }

  /** Denies with {@code message}, which the API server shows to the user. */
  public static void deny(ObjectNode response, String message) {
    response.put("allowed", false);
    response.putObject("status").put("message", message);
  }

  /** Allows with a warning, which kubectl prints to the user. */
  public static void allowWithWarning(ObjectNode response, String warning) {
    response.put("allowed", true);
    response.withArray("warnings").add(warning);
  }
}
