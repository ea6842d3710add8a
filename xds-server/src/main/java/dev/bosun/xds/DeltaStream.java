package dev.bosun.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Incremental (delta) ADS: only changed resources are sent, removals are named in {@code
 * removed_resources} after everything else, subscriptions change by {@code
 * resource_names_subscribe}/{@code _unsubscribe}, and a reconnecting client's {@code
 * initial_resource_versions} spare it what it already has (versions are content hashes, equal on
 * every server instance).
 */
final class DeltaStream extends XdsStream<DeltaDiscoveryResponse>
    implements StreamObserver<DeltaDiscoveryRequest> {

  DeltaStream(
      String id,
      XdsServer server,
      ServerCallStreamObserver<DeltaDiscoveryResponse> responses,
      java.util.function.Function<io.envoyproxy.envoy.config.core.v3.Node, io.grpc.Status>
          authorization) {
    super(id, server, responses, authorization);
  }

  @Override
  boolean delta() {
    return true;
  }

  @Override
  public void onNext(DeltaDiscoveryRequest request) {
    synchronized (this) {
      String type = request.getTypeUrl();
      TypeState state = typeState(request.getNode(), type);
      if (isClosed()) {
        return;
      }
      boolean first = state == null;
      if (first) {
        state = new TypeState(type);
        types.put(type, state);
        state.wildcard = request.getResourceNamesSubscribeList().isEmpty();
        Map<String, EncodedResource> known = new java.util.HashMap<>();
        request
            .getInitialResourceVersionsMap()
            .forEach(
                (name, version) ->
                    known.put(name, new EncodedResource(name, Any.getDefaultInstance(), version)));
        state.knownAtStart(known);
      } else if (!request.getResponseNonce().isEmpty()) {
        // A stale nonce is ignored for ACK/NACK, but subscription changes still apply.
        acknowledge(
            state, request.getResponseNonce(), request.getErrorDetail(), request.hasErrorDetail());
      }
      boolean added = false;
      List<String> subscribing = new ArrayList<>();
      for (String name : request.getResourceNamesSubscribeList()) {
        if (name.equals("*")) {
          added |= !state.wildcard;
          state.wildcard = true;
        } else if (!state.subscribed.contains(name)) {
          subscribing.add(name);
        }
      }
      List<String> forgotten = new ArrayList<>();
      for (String name : request.getResourceNamesUnsubscribeList()) {
        if (name.equals("*")) {
          state.wildcard = false;
        } else {
          forgotten.add(name);
        }
      }
      added |= !subscribing.isEmpty();
      // One new subscription set per request, not one per name: a first request names thousands.
      if (!subscribing.isEmpty() || forgotten.stream().anyMatch(state.subscribed::contains)) {
        Set<String> names = new java.util.LinkedHashSet<>(state.subscribed);
        names.addAll(subscribing);
        forgotten.forEach(names::remove);
        state.subscribed = server.internSubscription(names);
      }
      if (!state.wildcard && !forgotten.isEmpty()) {
        state.forget(forgotten);
      }
      if (first || added) {
        requestResponse(type);
      }
    }
  }

  @Override
  boolean respond(TypeState state, long startNanos, boolean removals) {
    if (removals) {
      Set<String> removed = state.deferredRemovals;
      state.deferredRemovals = Set.of();
      if (!removed.isEmpty()) {
        send(state, List.of(), removed, startNanos);
        state.willNotHave(removed);
      }
      return false;
    }
    Map<String, EncodedResource> desired = generate(state);
    if (desired == null) {
      return false;
    }
    Map<String, EncodedResource> changed = changed(state, desired);
    Set<String> removed = removed(state, desired);
    if (changed.isEmpty() && removed.isEmpty()) {
      return false;
    }
    if (removed.isEmpty() && isRejectedAgain(state, changed)) {
      return false;
    }
    if (changed.isEmpty()) {
      send(state, List.of(), removed, startNanos);
      state.willNotHave(removed);
      return false;
    }
    send(state, changed.values(), Set.of(), startNanos);
    sent(state, desired, changed);
    if (removed.isEmpty()) {
      return false;
    }
    state.deferredRemovals = new HashSet<>(removed);
    return true;
  }

  /**
   * Names the proxy has that it must no longer have: not desired, and (unless it subscribed by
   * wildcard) among the names this response is about. A push that concerns a few names of a proxy
   * holding thousands looks at those few only.
   */
  private static Set<String> removed(TypeState state, Map<String, EncodedResource> desired) {
    boolean partial = !state.wildcard && state.partial();
    Set<String> removed = new TreeSet<>();
    for (String name : partial ? state.namesToGenerate() : state.hasNames()) {
      if (!desired.containsKey(name)
          && state.has(name) != null
          && (state.wildcard || partial || state.subscribed.contains(name))) {
        removed.add(name);
      }
    }
    return removed;
  }

  private void send(
      TypeState state,
      Collection<EncodedResource> resources,
      Set<String> removed,
      long startNanos) {
    long begin = server.nanos();
    String nonce = nextNonce();
    String version = Long.toString(++state.versionCounter);
    DeltaDiscoveryResponse.Builder response =
        DeltaDiscoveryResponse.newBuilder()
            .setTypeUrl(state.typeUrl)
            .setSystemVersionInfo(version)
            .setNonce(nonce)
            .addAllRemovedResources(removed);
    for (EncodedResource resource : resources) {
      response.addResources(resource.delta());
    }
    responses.onNext(response.build());
    state.lastSentNonce = nonce;
    state.lastSentVersion = version;
    state.lastPushStartNanos = startNanos;
    server.sent(this, state, resources.size() + removed.size(), begin);
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
