package dev.bosun.xds;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ADS stream: its proxy, its per-type protocol state, and the push loop. Requests arrive on
 * gRPC's thread for the stream; pushes run on the server's push executor; both take the stream's
 * lock, so a stream is only ever handled by one thread at a time. A stream that is not ready to
 * take more (a slow or non-reading client) keeps its pending types and is drained when it becomes
 * ready, so it costs only itself.
 */
abstract class XdsStream<R> {
  private static final Logger log = LoggerFactory.getLogger(XdsStream.class);

  final String id;
  final XdsServer server;
  final ServerCallStreamObserver<R> responses;
  final Map<String, TypeState> types = new LinkedHashMap<>();
  private final Set<String> pending = new LinkedHashSet<>();

  /** Per pending type: the only names that may have changed, or absent when any may have. */
  private final Map<String, Set<String>> pendingHints = new HashMap<>();

  private long pendingStartNanos;

  /** The snapshot of the latest push queued and not yet drained, or null. */
  private Object pendingSnapshot;

  /** The snapshot responses are generated from now: a drain's, or the latest for a request. */
  private Object snapshot;

  private boolean drainScheduled;
  private boolean closed;

  /** Whether this stream has had a turn to send before (it then waits ahead of new streams). */
  private boolean servedBefore;

  private long nonces;
  XdsProxy proxy;

  /** The client's address as the transport saw it. */
  final String peer;

  /** Checks the node on introduction; null where the port does not authenticate (15010). */
  private final java.util.function.Function<Node, Status> authorization;

  XdsStream(
      String id,
      XdsServer server,
      ServerCallStreamObserver<R> responses,
      java.util.function.Function<Node, Status> authorization) {
    this.id = id;
    this.server = server;
    this.responses = responses;
    this.authorization = authorization;
    this.peer = XdsServer.peerAddress();
    responses.setOnReadyHandler(this::onReady);
    responses.setOnCancelHandler(() -> server.closed(this, "cancelled by the client"));
  }

  /** Whether this stream speaks incremental (delta) xDS. */
  abstract boolean delta();

  /**
   * Sends what changed of one type since the proxy's baseline; returns whether anything was sent.
   */
  abstract boolean respond(TypeState state, long startNanos, boolean removals);

  // ---- connection ---------------------------------------------------------------------------

  /** Accepts the stream's first request: the node must say who it is. */
  final boolean introduce(Node node) {
    if (proxy != null) {
      return true;
    }
    if (node == null || node.getId().isEmpty()) {
      fail(Status.INVALID_ARGUMENT.withDescription("the first request must carry node.id"));
      return false;
    }
    if (authorization != null) {
      Status refusal;
      try {
        refusal = authorization.apply(node);
      } catch (RuntimeException e) {
        log.error("{}: authorizing node {} failed", id, node.getId(), e);
        refusal = Status.INTERNAL.withDescription("cannot authorize node " + node.getId());
      }
      if (refusal != null) {
        log.info("{}: node {} refused: {}", id, node.getId(), refusal.getDescription());
        fail(refusal);
        return false;
      }
    }
    Object attachment;
    try {
      attachment = server.generator().attach(node, authorization != null);
    } catch (StatusException e) {
      fail(e.getStatus());
      return false;
    } catch (RuntimeException e) {
      log.error("{}: cannot attach node {}", id, node.getId(), e);
      fail(Status.INTERNAL.withDescription("cannot accept node " + node.getId() + ": " + e));
      return false;
    }
    proxy = new XdsProxy(id, node, Instant.now(), attachment);
    server.connected(this);
    return true;
  }

  /**
   * Validates the request's type and returns its state, creating it on first use; null (after
   * failing the stream) when the request is not acceptable.
   */
  final TypeState typeState(Node node, String type) {
    if (isClosed() || !introduce(node)) {
      return null;
    }
    if (type.isEmpty()) {
      fail(Status.INVALID_ARGUMENT.withDescription("type_url is required on an aggregated stream"));
      return null;
    }
    return types.get(type);
  }

  /**
   * Applies a request's acknowledgement: a stale nonce is counted and ignored (returns false), an
   * error detail is a rejection, anything else an ACK.
   */
  final boolean acknowledge(
      TypeState state, String nonce, com.google.rpc.Status error, boolean hasError) {
    if (!nonce.equals(state.lastSentNonce)) {
      server.expiredNonce(this, state);
      return false;
    }
    if (hasError) {
      state.nack(nonce, error.getMessage());
      server.rejected(this, state);
    } else {
      state.ack(nonce);
      server.acked(this, state);
    }
    return true;
  }

  /**
   * A request needs an answer for {@code typeUrl} (a new subscription or new names): it is sent by
   * the next drain, from the latest snapshot, for every subscribed name, when this stream's turn
   * comes.
   */
  final void requestResponse(String typeUrl) {
    synchronized (this) {
      if (closed) {
        return;
      }
      pending.add(typeUrl);
      pendingHints.remove(typeUrl);
      if (!needsDrain(server.nanos())) {
        return;
      }
    }
    server.schedule(this::drain);
  }

  /** Notes when pending work started; true when the caller must schedule a drain (unlocked). */
  private boolean needsDrain(long startNanos) {
    if (pendingStartNanos == 0 || startNanos < pendingStartNanos) {
      pendingStartNanos = startNanos;
    }
    if (drainScheduled) {
      return false;
    }
    drainScheduled = true;
    return true;
  }

  /** The client closed its side: close ours. */
  final void clientCompleted() {
    server.closed(this, "closed by the client");
    try {
      responses.onCompleted();
    } catch (RuntimeException e) {
      log.debug("{}: already closed", id);
    }
  }

  final void fail(Status status) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      responses.onError(status.asRuntimeException());
    } catch (RuntimeException e) {
      log.debug("{}: closing failed", id, e);
    }
    server.closed(this, status.getCode() + ": " + status.getDescription());
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /** A nonce unique on this stream. */
  final String nextNonce() {
    return Long.toString(++nonces);
  }

  // ---- pushes -------------------------------------------------------------------------------

  /** Queues a push of {@code typeUrls} (those this stream subscribed to) and schedules a drain. */
  final void push(Set<String> typeUrls, long startNanos) {
    push(typeUrls, Map.of(), startNanos, null);
  }

  /**
   * As {@link #push(Set, long)}, with per-type hints of the only names that may have changed, from
   * {@code snapshot} (null: the latest).
   */
  final void push(
      Set<String> typeUrls, Map<String, Set<String>> hints, long startNanos, Object snapshot) {
    synchronized (this) {
      if (closed || proxy == null) {
        return;
      }
      if (snapshot != null) {
        pendingSnapshot = snapshot; // pushes come in order: a later one supersedes
      }
      boolean added = false;
      for (String type : typeUrls) {
        if (!types.containsKey(type)) {
          continue;
        }
        Set<String> hint = hints.get(type);
        if (pending.add(type)) {
          added = true;
          if (hint != null) {
            pendingHints.put(type, new HashSet<>(hint));
          }
        } else if (pendingHints.containsKey(type)) {
          if (hint == null) {
            pendingHints.remove(type);
          } else {
            pendingHints.get(type).addAll(hint);
          }
        }
      }
      if (!added || !needsDrain(startNanos)) {
        return;
      }
    }
    server.schedule(this::drain);
  }

  /** gRPC has written what was queued: the turn is passed on, or the rest is sent. */
  private void onReady() {
    boolean schedule;
    synchronized (this) {
      if (pending.isEmpty()) {
        server.throttle().release(this);
        return;
      }
      schedule = !drainScheduled && !closed;
      drainScheduled |= schedule;
    }
    if (schedule) {
      server.schedule(this::drain);
    }
  }

  /**
   * Sends every pending type in push order, removals last; waits while the client is not ready or
   * while the server's turns to send are all taken.
   */
  final synchronized void drain() {
    drainScheduled = false;
    if (closed) {
      server.throttle().release(this);
      return;
    }
    if (pending.isEmpty() || !responses.isReady()) {
      return;
    }
    if (!server.throttle().tryHold(this, servedBefore)) {
      return; // resumed when a turn is free
    }
    servedBefore = true;
    try {
      sendPending();
    } finally {
      // While gRPC still buffers what was sent, the stream keeps its turn (onReady passes it on).
      if (pending.isEmpty() && responses.isReady()) {
        server.throttle().release(this);
      }
    }
  }

  private void sendPending() {
    List<String> order = XdsTypes.ordered(pending);
    Map<String, Set<String>> hints = new HashMap<>(pendingHints);
    long start = pendingStartNanos;
    // Every type this drain sends comes from one snapshot.
    snapshot = pendingSnapshot != null ? pendingSnapshot : server.latestSnapshot();
    pendingSnapshot = null;
    pending.clear();
    pendingHints.clear();
    pendingStartNanos = 0;
    List<TypeState> withRemovals = new ArrayList<>();
    for (String type : order) {
      TypeState state = types.get(type);
      if (state == null) {
        continue;
      }
      state.hint = hints.get(type);
      try {
        if (respond(state, start, false)) {
          withRemovals.add(state);
        }
      } finally {
        state.hint = null;
      }
    }
    for (TypeState state : withRemovals) {
      respond(state, start, true);
    }
  }

  /** The proxy's current resources of one type, encoded; empty on a generator failure. */
  final Map<String, EncodedResource> generate(TypeState state) {
    Map<String, ? extends Message> generated;
    Set<String> names = state.namesToGenerate();
    if (state.partial() && names.isEmpty()) {
      return new TreeMap<>(); // nothing this proxy subscribed to changed
    }
    try {
      generated = server.generator().generate(proxy, state.typeUrl, names, snapshot);
    } catch (RuntimeException e) {
      log.error(
          "{}: generating {} for {} failed; keeping what it has",
          id,
          XdsTypes.shortName(state.typeUrl),
          proxy.nodeId(),
          e);
      return null;
    }
    Map<String, EncodedResource> shared = server.encoder().encodeAll(generated);
    if (shared != null) {
      return shared;
    }
    Map<String, EncodedResource> encoded = new TreeMap<>();
    generated.forEach(
        (name, message) -> {
          EncodedResource resource = server.encoder().encode(name, message);
          if (resource.problem() == null) {
            encoded.put(name, resource);
            return;
          }
          // Envoy would reject it: never send it; the proxy keeps what it has.
          state.lastInvalid = name + ": " + resource.problem();
          server.invalid(this, state, name, resource.problem());
          EncodedResource previous = state.has(name);
          if (previous != null) {
            encoded.put(name, previous);
          }
        });
    return encoded;
  }

  /** Whether {@code changes} is exactly what the proxy rejected last: then it is not resent. */
  static boolean isRejectedAgain(TypeState state, Map<String, EncodedResource> changes) {
    if (state.rejected.isEmpty() || changes.size() != state.rejected.size()) {
      return false;
    }
    for (Map.Entry<String, EncodedResource> change : changes.entrySet()) {
      if (!change.getValue().version().equals(state.rejected.get(change.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Resources of {@code desired} whose version differs from what the proxy has. */
  static Map<String, EncodedResource> changed(
      TypeState state, Map<String, EncodedResource> desired) {
    if (state.hasExactly(desired)) {
      return Map.of();
    }
    if (state.size() == 0) {
      return desired; // everything is new
    }
    Map<String, EncodedResource> changed = new TreeMap<>();
    desired.forEach(
        (name, resource) -> {
          EncodedResource has = state.has(name);
          if (has == null || !has.version().equals(resource.version())) {
            changed.put(name, resource);
          }
        });
    return changed;
  }

  /**
   * Records that the proxy was sent {@code changed} of {@code desired}: when that leaves it with
   * exactly {@code desired}, the (shared) desired set itself becomes its state, not a copy.
   */
  static void sent(
      TypeState state, Map<String, EncodedResource> desired, Map<String, EncodedResource> changed) {
    // Size first: a proxy holding more names than desired cannot end up with exactly desired,
    // and listing the names of a view with changes costs a set of all of them.
    if (changed.size() == desired.size()
        && state.size() <= desired.size()
        && desired.keySet().containsAll(state.hasNames())) {
      state.willHaveExactly(desired);
    } else {
      state.willHave(changed);
    }
  }

  /** For debugging: every type's state. */
  final synchronized Map<String, Object> syncStatus() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("connectionId", id);
    status.put("nodeId", proxy == null ? "" : proxy.nodeId());
    status.put("connected", proxy == null ? "" : proxy.connected().toString());
    status.put("protocol", delta() ? "delta" : "sotw");
    Map<String, Object> byType = new LinkedHashMap<>();
    for (TypeState state : types.values()) {
      Map<String, Object> type = new LinkedHashMap<>();
      type.put("status", state.status());
      type.put("subscription", state.wildcard ? "*" : state.subscribed.size() + " names");
      type.put("resources", state.size());
      type.put("lastSentVersion", state.lastSentVersion);
      type.put("lastSentNonce", state.lastSentNonce);
      type.put("lastAckedVersion", state.lastAckedVersion);
      type.put("lastAckedNonce", state.lastAckedNonce);
      type.put("lastNackError", state.nackError);
      type.put("lastInvalidResource", state.lastInvalid);
      byType.put(XdsTypes.shortName(state.typeUrl), type);
    }
    status.put("types", byType);
    IstiodDebug.syncFields(this, status);
    return status;
  }

  /** Resource counts by type, for tests and debugging. */
  final synchronized Map<String, Integer> resourceCounts() {
    Map<String, Integer> counts = new HashMap<>();
    types.forEach((type, state) -> counts.put(type, state.size()));
    return counts;
  }
}
