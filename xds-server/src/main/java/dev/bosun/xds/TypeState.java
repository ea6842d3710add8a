package dev.bosun.xds;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The protocol state of one resource type on one stream: what the proxy subscribed to, what it
 * acknowledged, what it will have once the responses in flight are applied, and what it rejected.
 */
final class TypeState {
  final String typeUrl;
  boolean wildcard;

  /** The names subscribed to: an immutable set, shared between streams with equal subscriptions. */
  Set<String> subscribed = Set.of();

  /**
   * A fingerprint of the names of the last request, to skip decoding and applying an unchanged
   * list.
   */
  long subscriptionFingerprint;

  /** What the proxy acknowledged last. */
  private ResourceView acked = ResourceView.EMPTY;

  /**
   * What the proxy will have once the responses in flight are applied: the baseline of the next
   * diff. Both views share their maps with other streams where the same full set was sent, so a
   * stream's state costs references, not copies.
   */
  private ResourceView current = ResourceView.EMPTY;

  /**
   * Versions of what the last rejected response changed: not sent again until something changes.
   */
  Map<String, String> rejected = Map.of();

  /** Between the two passes of a push: what the type should end as once removals go out. */
  Map<String, EncodedResource> deferred;

  /** Between the two passes of a delta push: names to remove once everything else is sent. */
  Set<String> deferredRemovals = Set.of();

  /** A request asked for this type for the first time: answer it even when it is empty. */
  boolean mustRespond;

  /** During a push: the only names that may have changed (null: any). */
  Set<String> hint;

  String lastSentNonce = "";
  String lastSentVersion = "";
  long lastPushStartNanos;
  String lastAckedNonce = "";
  String lastAckedVersion = "";
  String nackError;

  /** The last generated resource that failed Envoy's constraints and was held back. */
  String lastInvalid;

  long versionCounter;

  TypeState(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  /**
   * SYNCED when the last response was acknowledged, NACKED when rejected, STALE while waiting, NOT
   * SENT before the first response.
   */
  String status() {
    if (nackError != null) {
      return "NACKED";
    }
    if (lastSentNonce.isEmpty()) {
      return "NOT SENT";
    }
    if (lastSentNonce.equals(lastAckedNonce)) {
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

  /** What the proxy has once everything sent is applied, by name (null: nothing). */
  EncodedResource has(String name) {
    return current.get(name);
  }

  /** What the proxy acknowledged last under {@code name} (null: nothing). */
  EncodedResource acked(String name) {
    return acked.get(name);
  }

  /** Whether what the proxy will have is exactly {@code resources}, the same shared map. */
  boolean hasExactly(Map<String, EncodedResource> resources) {
    return current.isExactly(resources);
  }

  /** Names the proxy has once everything sent is applied. */
  Set<String> hasNames() {
    return current.names();
  }

  int size() {
    return current.size();
  }

  /** Records resources sent (added or changed). */
  void willHave(Map<String, EncodedResource> resources) {
    current = current.with(resources);
  }

  /** Records names removed. */
  void willNotHave(Collection<String> names) {
    current = current.without(names);
  }

  /** Records a full state: exactly these resources (a map nobody modifies any more). */
  void willHaveExactly(Map<String, EncodedResource> resources) {
    current = ResourceView.of(resources);
  }

  /** What a delta client said it already has when it opened the stream. */
  void knownAtStart(Map<String, EncodedResource> resources) {
    acked = ResourceView.of(resources);
    current = acked;
  }

  /** Forgets names the proxy unsubscribed from. */
  void forget(Collection<String> names) {
    acked = acked.without(names);
    current = current.without(names);
  }

  void ack(String nonce) {
    lastAckedNonce = nonce;
    lastAckedVersion = lastSentVersion;
    acked = current;
    rejected = Map.of();
    nackError = null;
  }

  /** The proxy rejected the last response: it keeps what it acknowledged before. */
  void nack(String nonce, String error) {
    lastAckedNonce = nonce;
    nackError = error == null || error.isEmpty() ? "rejected without a message" : error;
    Map<String, String> changed = new HashMap<>();
    for (String name : current.names()) {
      EncodedResource resource = current.get(name);
      EncodedResource before = acked.get(name);
      if (before == null || !before.version().equals(resource.version())) {
        changed.put(name, resource.version());
      }
    }
    rejected = changed;
    current = acked;
  }
}
