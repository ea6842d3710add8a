package dev.bosun.xds;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
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

  /** A fingerprint of the names of the last request, to skip decoding an unchanged list. */
  long subscriptionFingerprint;

  /** What the proxy acknowledged last. */
  final Map<String, EncodedResource> acked = new HashMap<>();

  /**
   * Changes sent since the last acknowledgement (a null value is a removal). Applied to {@link
   * #acked} they give what the proxy will have, the baseline of the next diff. Kept apart so a push
   * that changes one resource costs one entry, not a copy of everything the proxy has.
   */
  final Map<String, EncodedResource> pending = new HashMap<>();

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

  /** The last generated resource that failed Envoy's constraints and was held back. */
  String lastInvalid;

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

  /** What the proxy has once everything sent is applied, by name (null: nothing). */
  EncodedResource has(String name) {
    return pending.containsKey(name) ? pending.get(name) : acked.get(name);
  }

  /** Names the proxy has once everything sent is applied. */
  Set<String> hasNames() {
    if (pending.isEmpty()) {
      return acked.keySet();
    }
    Set<String> names = new HashSet<>(acked.keySet());
    pending.forEach(
        (name, resource) -> {
          if (resource == null) {
            names.remove(name);
          } else {
            names.add(name);
          }
        });
    return names;
  }

  int size() {
    return hasNames().size();
  }

  /** Records resources sent (added or changed). */
  void willHave(Map<String, EncodedResource> resources) {
    pending.putAll(resources);
  }

  /** Records names removed. */
  void willNotHave(Collection<String> names) {
    names.forEach(name -> pending.put(name, null));
  }

  /** Records a full state: exactly these resources. */
  void willHaveExactly(Map<String, EncodedResource> resources) {
    for (String name : new HashSet<>(hasNames())) {
      if (!resources.containsKey(name)) {
        pending.put(name, null);
      }
    }
    resources.forEach(
        (name, resource) -> {
          EncodedResource has = has(name);
          if (has == null || !has.version().equals(resource.version())) {
            pending.put(name, resource);
          }
        });
  }

  /** Forgets names the proxy unsubscribed from. */
  void forget(Collection<String> names) {
    for (String name : names) {
      acked.remove(name);
      pending.remove(name);
    }
  }

  void ack(String nonce) {
    lastAckedNonce = nonce;
    lastAckedVersion = lastSentVersion;
    pending.forEach(
        (name, resource) -> {
          if (resource == null) {
            acked.remove(name);
          } else {
            acked.put(name, resource);
          }
        });
    pending.clear();
    rejected = Map.of();
    nackError = null;
  }

  /** The proxy rejected the last response: it keeps what it acknowledged before. */
  void nack(String nonce, String error) {
    lastAckedNonce = nonce;
    nackError = error == null || error.isEmpty() ? "rejected without a message" : error;
    Map<String, String> changed = new HashMap<>();
    pending.forEach(
        (name, resource) -> {
          if (resource != null) {
            changed.put(name, resource.version());
          }
        });
    rejected = changed;
    pending.clear();
  }
}
