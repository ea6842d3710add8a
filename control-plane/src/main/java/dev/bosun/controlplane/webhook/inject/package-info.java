/**
 * Sidecar injection as istiod does it: the policy that decides whether a pod is injected, the
 * {@code sidecar} and {@code grpc-agent} templates built with fabric8's model, the merge into the
 * pod and istiod's post-processing, and the {@code /inject} AdmissionReview handler.
 */
package dev.bosun.controlplane.webhook.inject;
