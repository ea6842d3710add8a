package dev.bosun.controlplane.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One admission webhook path on the {@link WebhookServer}: it answers AdmissionReviews and counts
 * the HTTP errors the server answers on its behalf, each webhook under istiod's metric names.
 */
public interface AdmissionHandler {
  /** The AdmissionReview to answer {@code review} (a JSON object) with. */
  ObjectNode review(JsonNode review);

  /** The answer to a body that is not an AdmissionReview at all, saying {@code why}. */
  ObjectNode undecodable(String why);

  /** Counts a request refused before it reached {@link #review} (bad method, type, size). */
  void httpError(int status);
}
