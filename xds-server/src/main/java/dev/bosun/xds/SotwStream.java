package dev.bosun.xds;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * State-of-the-world ADS. Listener and Cluster responses carry every resource (a missing one is a
 * removal; removals go out after the other types, make before break); other types carry only what
 * changed. A request whose nonce is not the last one sent is stale and ignored.
 */
final class SotwStream extends XdsStream<SotwResponse> implements StreamObserver<SotwRequest> {

  SotwStream(
      String id,
      XdsServer server,
      ServerCallStreamObserver<SotwResponse> responses,
      java.util.function.Function<io.envoyproxy.envoy.config.core.v3.Node, io.grpc.Status>
          authorization) {
    super(id, server, responses, authorization);
  }

  @Override
  boolean delta() {
    return false;
  }

  @Override
  public void onNext(SotwRequest received) {
    DiscoveryRequest request = received.request();
    synchronized (this) {
      TypeState state = typeState(request.getNode(), request.getTypeUrl());
      if (isClosed()) {
        return;
      }
      boolean first = state == null;
      if (first) {
        state = new TypeState(request.getTypeUrl());
        types.put(request.getTypeUrl(), state);
      } else if (!request.getResponseNonce().isEmpty()
          && !acknowledge(
              state,
              request.getResponseNonce(),
              request.getErrorDetail(),
              request.hasErrorDetail())) {
        return;
      }
      Set<String> added;
      try {
        added = subscribe(state, received, first);
      } catch (java.io.UncheckedIOException e) {
        fail(
            Status.INVALID_ARGUMENT.withDescription(
                "unreadable resource_names: " + e.getMessage()));
        return;
      }
      if (first || !added.isEmpty()) {
        state.mustRespond |= first;
        requestResponse(state.typeUrl);
      }
    }
  }

  /**
   * Applies the request's names; returns names newly subscribed. Envoy repeats its whole list on
   * every ACK, so an unchanged list (recognised by the fingerprint of its bytes) is not even
   * decoded.
   */
  private Set<String> subscribe(TypeState state, SotwRequest request, boolean first) {
    if (!first && request.sameNamesAs(state.subscriptionFingerprint)) {
      return Set.of();
    }
    Set<String> requested = server.subscription(request);
    state.subscriptionFingerprint = request.fingerprint();
    boolean star = requested.contains("*");
    if (first) {
      state.wildcard = requested.isEmpty() || star;
    } else if (star) {
      state.wildcard = true;
    }
    Set<String> names = requested;
    if (star) {
      names = new HashSet<>(requested);
      names.remove("*");
    }
    if (state.wildcard && names.isEmpty()) {
      return Set.of();
    }
    Set<String> before = state.subscribed;
    state.subscribed = star ? server.internSubscription(names) : requested;
    if (before.isEmpty()) {
      return state.subscribed; // all of them are new
    }
    Set<String> added = new HashSet<>(state.subscribed);
    added.removeAll(before);
    Set<String> dropped = new HashSet<>(before);
    dropped.removeAll(state.subscribed);
    if (!state.wildcard && !dropped.isEmpty()) {
      state.forget(dropped);
    }
    return added;
  }

  @Override
  boolean respond(TypeState state, long startNanos, boolean removals) {
    boolean force = !removals && state.mustRespond;
    if (force) {
      state.mustRespond = false;
    }
    return respond(state, startNanos, removals, force);
  }

  private boolean respond(TypeState state, long startNanos, boolean removals, boolean force) {
    if (removals) {
      Map<String, EncodedResource> last = state.deferred;
      state.deferred = null;
      if (last != null) {
        send(state, last, startNanos);
        state.willHaveExactly(last);
      }
      return false;
    }
    Map<String, EncodedResource> desired = generate(state);
    if (desired == null) {
      return false;
    }
    Map<String, EncodedResource> changed = changed(state, desired);
    if (XdsTypes.isFullState(state.typeUrl) || state.wildcard) {
      Set<String> removed = new HashSet<>(state.hasNames());
      removed.removeAll(desired.keySet());
      if (!force && changed.isEmpty() && removed.isEmpty()) {
        return false;
      }
      if (!force && removed.isEmpty() && isRejectedAgain(state, changed)) {
        return false;
      }
      if (!removed.isEmpty()) {
        Map<String, EncodedResource> keepingRemoved = new TreeMap<>(desired);
        removed.forEach(name -> keepingRemoved.put(name, state.has(name)));
        if (!changed.isEmpty()) {
          send(state, keepingRemoved, startNanos);
          state.willHaveExactly(keepingRemoved);
          state.deferred = desired;
          return true;
        }
      }
      send(state, desired, startNanos);
      state.willHaveExactly(desired);
      return false;
    }
    if (changed.isEmpty() || isRejectedAgain(state, changed)) {
      return false;
    }
    send(state, changed, startNanos);
    sent(state, desired, changed);
    return false;
  }

  private void send(TypeState state, Map<String, EncodedResource> resources, long startNanos) {
    long begin = server.nanos();
    String nonce = nextNonce();
    String version = Long.toString(++state.versionCounter);
    responses.onNext(
        new SotwResponse(state.typeUrl, version, nonce, server.encoder().sotwResources(resources)));
    state.lastSentNonce = nonce;
    state.lastSentVersion = version;
    state.lastPushStartNanos = startNanos;
    server.sent(this, state, resources.size(), begin);
  }

  @Override
  public void onError(Throwable error) {
    server.closed(this, "stream error: " + Status.fromThrowable(error));
  }

  @Override
  public void onCompleted() {
    clientCompleted();
  }
}
