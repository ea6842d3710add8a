package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;

/** AdmissionReviews as the API server sends them to {@code /inject}. */
final class Reviews {
  static final String UID = "1d2f9a0e-8c1b-4a7e-9f3d-5b6c7d8e9f01";

  private Reviews() {}

  /** A v1 AdmissionReview for the creation of {@code pod} in its namespace. */
  static ObjectNode create(JsonNode pod) {
    ObjectNode review = IstioJson.json().createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", UID);
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.put("namespace", pod.path("metadata").path("namespace").asText("shop"));
    request.put("operation", "CREATE");
    request
        .putObject("userInfo")
        .put("username", "system:serviceaccount:kube-system:replicaset-controller");
    request.set("object", pod);
    request.putNull("oldObject");
    request.put("dryRun", false);
    return review;
  }
}
