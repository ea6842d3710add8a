package dev.bosun.xds;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The protocol state of one resource type on one stream: what the proxy subscribed to, what it
 * acknowledged, what it will have once the response in flight is applied, and what it rejected.
 */
final class TypeState {
  final String typeUrl;
  boolean wildcard;

  /** The names subscribed to: an immutable set, shared between streams with equal subscriptions. */
  Set<String> subscribed = Set.of();

  /** A fingerprint of the names of the last request, to skip decoding an unchanged list. */
  long subscriptionFingerprint;

  /** What the proxy acknowledged last. */
  Map<String, EncodedResource> acked = new HashMap<>();

  /** What the proxy has once the response in flight is applied: the baseline for the next diff. */
  Map<String, EncodedResource> sent = new HashMap<>();

  /**
   * Versions of what the last rejected response changed: not sent again until something changes.
   */
  Map<String, String> rejected = Map.of();

  /** Between the two passes of a push: what the type should end as once removals go out. */
  Map<String, EncodedResource> deferred;

  /** Between the two passes of a delta push: names to remove once everything else is sent. */
  Set<String> deferredRemovals = Set.of();

  /** During a push: the only names that may have changed (null: any). */
  Set<String> hint;

  String lastSentNonce = "";
  String lastSentVersion = "";
  long lastPushStartNanos;
  String lastAckedNonce = "";
  String lastAckedVersion = "";
  String nackError;
  long versionCounter;

  TypeState(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  /** SYNCED when the last response was acknowledged, NACKED when rejected, STALE while waiting. */
  String status() {
    if (nackError != null) {
      return "NACKED";
    }
    if (lastSentNonce.isEmpty() || lastSentNonce.equals(lastAckedNonce)) {
      return "SYNCED";
    }
    return "STALE";
  }

  /** Names the proxy asked for: all it has or may get when wildcard. */
  Set<String> names() {
    return wildcard ? Set.of() : subscribed;
  }

  /**
   * Whether this push may regenerate only some names: the type carries changed resources only (not
   * Listener or Cluster), the subscription is by name, and the push named what changed.
   */
  boolean partial() {
    return hint != null && !wildcard && !XdsTypes.isFullState(typeUrl);
  }

  /** The subscribed names this push needs to look at. */
  Set<String> namesToGenerate() {
    if (!partial()) {
      return names();
    }
    Set<String> names = new LinkedHashSet<>(hint);
    names.retainAll(subscribed);
    return names;
  }

  /** Before changing {@link #sent}: it may be the same map as {@link #acked}. */
  Map<String, EncodedResource> sentForUpdate() {
    if (sent == acked) {
      sent = new HashMap<>(acked);
    }
    return sent;
  }

  void ack(String nonce) {
    lastAckedNonce = nonce;
    lastAckedVersion = lastSentVersion;
    acked = sent; // shared until the next change; see sentForUpdate
    rejected = Map.of();
    nackError = null;
  }

  /** The proxy rejected the last response: it keeps what it acknowledged before. */
  void nack(String nonce, String error) {
    lastAckedNonce = nonce;
    nackError = error == null || error.isEmpty() ? "rejected without a message" : error;
    Map<String, String> changed = new HashMap<>();
    sent.forEach(
        (name, resource) -> {
          EncodedResource before = acked.get(name);
          if (before == null || !before.version().equals(resource.version())) {
            changed.put(name, resource.version());
          }
        });
    rejected = changed;
    sent = acked;
  }
}
