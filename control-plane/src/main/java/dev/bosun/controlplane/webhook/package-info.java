/**
 * Bosun's admission webhooks on port 15017, as istiod serves them: {@code /validate} for the Istio
 * kinds, {@code /inject} for sidecar injection (package {@code inject}); and the leader's upkeep of
 * the webhook configurations that point at it.
 */
package dev.bosun.controlplane.webhook;
