package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ADS server: accepts state-of-the-world and delta streams, keeps each stream's protocol state,
 * and pushes what changed when the control plane says so. It refuses streams until the control
 * plane is ready and beyond a rate of new streams, and records istiod's xDS metrics.
 */
public final class XdsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XdsServer.class);

  private final XdsServerSettings settings;
  private final XdsGenerator generator;
  private final MeterRegistry meters;
  private final LongSupplier ticker;
  private final ResourceEncoder encoder = new ResourceEncoder();
  private final PushThrottle throttle;

  /** Interned subscriptions by the bytes they came as; an entry goes with its last stream. */
  private final com.google.common.cache.Cache<SotwRequest.NamesKey, Set<String>>
      subscriptionsByBytes = com.google.common.cache.CacheBuilder.newBuilder().weakValues().build();

  private final com.google.common.collect.Interner<Set<String>> subscriptions =
      com.google.common.collect.Interners.newWeakInterner();
  private final Map<String, XdsStream<?>> streams = new ConcurrentHashMap<>();
  private final Map<String, TypeMeters> typeMeters = new ConcurrentHashMap<>();
  private final Set<String> reportedInvalid = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final java.util.concurrent.atomic.LongAdder completedDrains =
      new java.util.concurrent.atomic.LongAdder();
  private final StreamRateLimiter rateLimiter;
  private final ExecutorService pushes;
  private final Timer convergence;
  private volatile boolean ready;
  private volatile boolean shuttingDown;
  private Server server;
  private final List<Server> secureServers = new java.util.concurrent.CopyOnWriteArrayList<>();

  public XdsServer(
      XdsServerSettings settings,
      XdsGenerator generator,
      MeterRegistry meters,
      LongSupplier ticker) {
    this.settings = settings;
    this.generator = generator;
    this.meters = meters;
    this.ticker = ticker;
    this.rateLimiter =
        new StreamRateLimiter(settings.newStreamsPerSecond(), settings.newStreamBurst(), ticker);
    this.throttle =
        new PushThrottle(
            settings.pushConcurrency(),
            settings.turnTimeout(),
            ticker,
            stream -> schedule(stream::drain));
    Gauge.builder("bosun_xds_sending_streams", throttle, PushThrottle::holding)
        .description("Streams holding a turn to send (a response sent and not yet written out)")
        .register(meters);
    Gauge.builder("bosun_xds_waiting_streams", throttle, PushThrottle::waiting)
        .description("Streams waiting for a turn to send")
        .register(meters);
    this.pushes =
        Executors.newFixedThreadPool(
            settings.pushThreads(),
            r -> {
              Thread thread = new Thread(r, "bosun-xds-push");
              thread.setDaemon(true);
              return thread;
            });
    Gauge.builder("pilot_xds", streams, Map::size)
        .description("Number of connected xDS streams")
        .register(meters);
    for (String type : XdsTypes.PUSH_ORDER) {
      String shortName = XdsTypes.shortName(type);
      Gauge.builder("pilot_xds_" + shortName + "_reject", streams, s -> rejecting(s, type))
          .description("Streams whose last " + shortName.toUpperCase() + " response was rejected")
          .register(meters);
    }
    this.convergence =
        Timer.builder("pilot_proxy_convergence_time")
            .description("Time from a change to its acknowledgement by a proxy")
            .publishPercentileHistogram()
            .register(meters);
  }

  private static double rejecting(Map<String, XdsStream<?>> streams, String type) {
    return streams.values().stream()
        .filter(
            s -> {
              synchronized (s) {
                TypeState state = s.types.get(type);
                return state != null && state.nackError != null;
              }
            })
        .count();
  }

  /** Binds the port and starts serving. */
  public XdsServer start() throws IOException {
    server =
        configure(NettyServerBuilder.forAddress(settings.address()))
            .addService(new AdsService(null).definition())
            .build()
            .start();
    log.info("xDS on {}", server.getListenSockets());
    return this;
  }

  /**
   * Serves the same ADS streams on another port with {@code credentials} (TLS on 15012), next to
   * {@code services} such as the certificate service; each stream's node must pass {@code
   * authorizer}. Returns the bound port.
   */
  public int startSecure(
      java.net.SocketAddress address,
      io.grpc.ServerCredentials credentials,
      StreamAuthorizer authorizer,
      List<io.grpc.BindableService> services)
      throws IOException {
    NettyServerBuilder builder =
        configure(NettyServerBuilder.forAddress(address, credentials))
            .addService(new AdsService(requireNonNull(authorizer, "authorizer")).definition());
    services.forEach(builder::addService);
    Server secure = builder.build().start();
    secureServers.add(secure);
    log.info("xDS over TLS on {}", secure.getListenSockets());
    return secure.getPort();
  }

  private NettyServerBuilder configure(NettyServerBuilder builder) {
    return builder
        .keepAliveTime(settings.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(settings.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxConnectionAge(settings.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(settings.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS)
        .maxInboundMessageSize(settings.maxInboundMessageBytes());
  }

  /** The bound port (useful when configured with port 0). */
  public int port() {
    return server.getPort();
  }

  /** Until ready, new streams are refused with UNAVAILABLE so clients retry elsewhere or later. */
  public void setReady(boolean ready) {
    this.ready = ready;
  }

  /** The snapshot of the latest push that carried one, for responses to requests. */
  private volatile Object latestSnapshot;

  /** Pushes a change to the streams it concerns; returns how many streams it was queued on. */
  public int push(PushScope scope) {
    if (scope.snapshot() != null) {
      latestSnapshot = scope.snapshot();
    }
    int queued = 0;
    for (XdsStream<?> stream : streams.values()) {
      XdsProxy proxy = stream.proxy;
      if (proxy == null || !scope.proxies().test(proxy)) {
        continue;
      }
      java.util.Set<String> types;
      synchronized (stream) {
        types = new java.util.HashSet<>(stream.types.keySet());
      }
      types.removeIf(type -> !scope.covers(type, proxy));
      if (!types.isEmpty()) {
        stream.push(types, scope.names(), scope.startNanos(), scope.snapshot());
        queued++;
      }
    }
    return queued;
  }

  /** Every connected stream's protocol state, for {@code /debug/syncz}. */
  public List<Map<String, Object>> syncStatus() {
    return syncStatus("");
  }

  /**
   * As {@link #syncStatus()}, for the proxies whose node metadata names {@code namespace} (every
   * proxy when it is empty), as istiod's {@code /debug/syncz?namespace=}.
   */
  public List<Map<String, Object>> syncStatus(String namespace) {
    List<Map<String, Object>> status = new ArrayList<>();
    for (XdsStream<?> stream : streams.values()) {
      if (stream.proxy != null
          && (namespace.isEmpty() || IstiodDebug.metadata(stream, "NAMESPACE").equals(namespace))) {
        status.add(stream.syncStatus());
      }
    }
    status.sort(
        (a, b) -> String.valueOf(a.get("nodeId")).compareTo(String.valueOf(b.get("nodeId"))));
    return status;
  }

  /**
   * What each stream of a proxy was last sent, in the shape of Envoy's config dump: one entry per
   * stream whose node id is {@code nodeId}, empty when none is connected.
   */
  public List<Map<String, Object>> configDump(String nodeId) {
    List<Map<String, Object>> dumps = new ArrayList<>();
    for (XdsStream<?> stream : streams.values()) {
      if (stream.proxy != null && stream.proxy.nodeId().equals(nodeId)) {
        dumps.add(ConfigDump.of(stream));
      }
    }
    return dumps;
  }

  /**
   * istiod's {@code /debug/connections}: how many streams are open, and for each its id, when it
   * connected and from where.
   */
  public Map<String, Object> connections() {
    List<Map<String, Object>> clients = new ArrayList<>();
    for (XdsStream<?> stream : sortedStreams()) {
      Map<String, Object> client = new java.util.LinkedHashMap<>();
      client.put("connectionId", stream.id);
      client.put("connectedAt", stream.proxy == null ? "" : stream.proxy.connected().toString());
      client.put("address", stream.peer);
      clients.add(client);
    }
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("totalClients", clients.size());
    body.put("clients", clients);
    return body;
  }

  /**
   * istiod's {@code /debug/adsz}: every connection with its node's labels, metadata, locality and
   * watched names; with {@code nodeId}, only that proxy's, or empty when it is not connected here.
   */
  public java.util.Optional<Map<String, Object>> adsz(String nodeId) {
    List<Map<String, Object>> clients = new ArrayList<>();
    for (XdsStream<?> stream : sortedStreams()) {
      if (nodeId.isEmpty() || (stream.proxy != null && stream.proxy.nodeId().equals(nodeId))) {
        clients.add(IstiodDebug.adsz(stream));
      }
    }
    if (!nodeId.isEmpty() && clients.isEmpty()) {
      return java.util.Optional.empty();
    }
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("totalClients", clients.size());
    body.put("clients", clients);
    return java.util.Optional.of(body);
  }

  private List<XdsStream<?>> sortedStreams() {
    List<XdsStream<?>> sorted = new ArrayList<>(streams.values());
    sorted.sort(java.util.Comparator.comparing(stream -> stream.id));
    return sorted;
  }

  /** Connected streams (those that introduced themselves). */
  public int connectedStreams() {
    return streams.size();
  }

  // ---- callbacks from streams --------------------------------------------------------------

  /**
   * One shared immutable set per distinct subscription: thousands of proxies subscribing to the
   * same cluster names hold one copy of the names, not one each.
   */
  Set<String> internSubscription(Set<String> names) {
    return subscriptions.intern(Set.copyOf(names));
  }

  /**
   * The names a request subscribes to, as sent ({@code "*"} included), interned: a list already
   * seen, byte for byte, is not decoded again (thousands of sidecars of one scope send the same
   * thousands of EDS names when they connect).
   */
  Set<String> subscription(SotwRequest request) {
    SotwRequest.NamesKey key = request.namesKey();
    if (key == null) {
      return internSubscription(new HashSet<>(request.names()));
    }
    Set<String> known = subscriptionsByBytes.getIfPresent(key);
    if (known == null) {
      known = internSubscription(new HashSet<>(request.names()));
      subscriptionsByBytes.put(key.retained(), known);
    }
    return known;
  }

  XdsGenerator generator() {
    return generator;
  }

  /** The snapshot of the latest push that carried one, or null. */
  Object latestSnapshot() {
    return latestSnapshot;
  }

  ResourceEncoder encoder() {
    return encoder;
  }

  long nanos() {
    return ticker.getAsLong();
  }

  /** Push drains completed so far (each sends one stream what a push changed for it). */
  public long completedDrains() {
    return completedDrains.sum();
  }

  void schedule(Runnable drain) {
    try {
      pushes.execute(
          () -> {
            try {
              drain.run();
            } finally {
              completedDrains.increment();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("push after shutdown dropped");
    }
  }

  void connected(XdsStream<?> stream) {
    streams.put(stream.id, stream);
    log.info(
        "{}: {} connected ({})",
        stream.id,
        stream.proxy.nodeId(),
        stream.delta() ? "delta" : "sotw");
  }

  PushThrottle throttle() {
    return throttle;
  }

  void closed(XdsStream<?> stream, String why) {
    throttle.release(stream);
    if (streams.remove(stream.id) != null) {
      log.info("{}: {} disconnected: {}", stream.id, stream.proxy.nodeId(), why);
    }
  }

  /** The push counter and timer of one type, registered once. */
  private record TypeMeters(Counter pushes, Timer pushTime) {}

  private TypeMeters typeMeters(String typeUrl) {
    return typeMeters.computeIfAbsent(
        typeUrl,
        url -> {
          String type = XdsTypes.shortName(url);
          return new TypeMeters(
              Counter.builder("pilot_xds_pushes")
                  .description("xDS responses sent, by type")
                  .tag("type", type)
                  .register(meters),
              Timer.builder("pilot_xds_push_time")
                  .description("Time to generate and send one xDS response")
                  .tag("type", type)
                  .register(meters));
        });
  }

  void sent(XdsStream<?> stream, TypeState state, int resources, long beginNanos) {
    TypeMeters typed = typeMeters(state.typeUrl);
    typed.pushes().increment();
    typed.pushTime().record(nanos() - beginNanos, TimeUnit.NANOSECONDS);
    log.debug(
        "{}: sent {} {} resources, nonce {}",
        stream.id,
        resources,
        XdsTypes.shortName(state.typeUrl),
        state.lastSentNonce);
  }

  void invalid(XdsStream<?> stream, TypeState state, String name, String problem) {
    Counter.builder("bosun_xds_invalid_resources")
        .description("Generated resources held back because Envoy's constraints reject them")
        .tag("type", XdsTypes.shortName(state.typeUrl))
        .register(meters)
        .increment();
    if (reportedInvalid.add(state.typeUrl + " " + name + " " + problem)) {
      if (reportedInvalid.size() > 10_000) {
        reportedInvalid.clear();
      }
      log.error(
          "{} {} for {} not sent: it violates Envoy's constraints: {} (the proxy keeps its previous version)",
          XdsTypes.shortName(state.typeUrl),
          name,
          stream.proxy.nodeId(),
          problem);
    }
  }

  void acked(XdsStream<?> stream, TypeState state) {
    if (state.lastPushStartNanos != 0) {
      convergence.record(nanos() - state.lastPushStartNanos, TimeUnit.NANOSECONDS);
    }
  }

  void rejected(XdsStream<?> stream, TypeState state) {
    Counter.builder("pilot_total_xds_rejects")
        .description("xDS responses rejected by proxies")
        .tag("type", XdsTypes.shortName(state.typeUrl))
        .register(meters)
        .increment();
    log.warn(
        "{}: {} rejected {} version {}: {}",
        stream.id,
        stream.proxy.nodeId(),
        XdsTypes.shortName(state.typeUrl),
        state.lastSentVersion,
        state.nackError);
  }

  void expiredNonce(XdsStream<?> stream, TypeState state) {
    Counter.builder("pilot_xds_expired_nonce")
        .description("Requests whose nonce is not the last one sent (ignored)")
        .tag("type", XdsTypes.shortName(state.typeUrl))
        .register(meters)
        .increment();
  }

  // ---- gRPC service -------------------------------------------------------------------------

  /** The call's headers, for the authorizer of a secure port. */
  private static final io.grpc.Context.Key<Metadata> HEADERS = io.grpc.Context.key("xds-headers");

  /** The call's peer address, for the debug pages. */
  private static final io.grpc.Context.Key<String> PEER = io.grpc.Context.key("xds-peer");

  /** The peer address of the call being set up, or empty outside one. */
  static String peerAddress() {
    String peer = PEER.get();
    return peer == null ? "" : peer;
  }

  /**
   * Envoy's aggregated discovery service. Its state-of-the-world method reads requests as {@link
   * SotwRequest}s (same wire format) so that repeated subscriptions are not decoded; the delta
   * method is the generated one.
   */
  private final class AdsService
      extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    private final StreamAuthorizer authorizer;

    AdsService(StreamAuthorizer authorizer) {
      this.authorizer = authorizer;
    }

    /** The check for a stream opened now, or null on a port that does not authorize. */
    private java.util.function.Function<io.envoyproxy.envoy.config.core.v3.Node, Status>
        authorization() {
      if (authorizer == null) {
        return null;
      }
      Metadata headers = HEADERS.get();
      return node -> authorizer.authorize(headers == null ? new Metadata() : headers, node);
    }

    /** This service with the call headers captured for {@link #authorization}. */
    io.grpc.ServerServiceDefinition definition() {
      io.grpc.ServerInterceptor captureHeaders =
          new io.grpc.ServerInterceptor() {
            @Override
            public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(
                io.grpc.ServerCall<Q, A> call,
                Metadata headers,
                io.grpc.ServerCallHandler<Q, A> next) {
              java.net.SocketAddress peer =
                  call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
              return io.grpc.Contexts.interceptCall(
                  io.grpc.Context.current()
                      .withValue(HEADERS, headers)
                      .withValue(PEER, peer == null ? "" : peer.toString()),
                  call,
                  headers,
                  next);
            }
          };
      var sotw = AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod();
      var delta = AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod();
      io.grpc.ServerServiceDefinition ads =
          io.grpc.ServerServiceDefinition.builder(AggregatedDiscoveryServiceGrpc.SERVICE_NAME)
              .addMethod(
                  sotw.toBuilder(SotwRequest.MARSHALLER, SotwResponse.MARSHALLER).build(),
                  io.grpc.stub.ServerCalls.asyncBidiStreamingCall(this::sotw))
              .addMethod(bindService().getMethod(delta.getFullMethodName()))
              .build();
      return io.grpc.ServerInterceptors.intercept(ads, captureHeaders);
    }

    private StreamObserver<SotwRequest> sotw(StreamObserver<SotwResponse> responses) {
      Status refusal = admit();
      if (refusal != null) {
        responses.onError(refusal.asRuntimeException());
        return new Discard<>();
      }
      return new SotwStream(
          nextId(),
          XdsServer.this,
          (ServerCallStreamObserver<SotwResponse>) responses,
          authorization());
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
        StreamObserver<DeltaDiscoveryResponse> responses) {
      Status refusal = admit();
      if (refusal != null) {
        responses.onError(refusal.asRuntimeException());
        return new Discard<>();
      }
      return new DeltaStream(
          nextId(),
          XdsServer.this,
          (ServerCallStreamObserver<DeltaDiscoveryResponse>) responses,
          authorization());
    }
  }

  private Status admit() {
    if (shuttingDown) {
      return Status.UNAVAILABLE.withDescription("server shutting down; reconnect");
    }
    if (!ready) {
      return Status.UNAVAILABLE.withDescription("control plane not ready yet; retry");
    }
    if (!admitted()) {
      Counter.builder("pilot_xds_rejected_streams")
          .description("New streams refused by the rate limit")
          .register(meters)
          .increment();
      return Status.RESOURCE_EXHAUSTED.withDescription("too many new streams; retry with backoff");
    }
    return null;
  }

  /** Whether the stream rate lets a new stream in, waiting briefly for a token if one is near. */
  private boolean admitted() {
    try {
      return rateLimiter.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String nextId() {
    return "xds-" + ids.incrementAndGet();
  }

  /** The request side of a refused stream. */
  private static final class Discard<T> implements StreamObserver<T> {
    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect elsewhere), then stops the server. */
  @Override
  public void close() {
    shuttingDown = true;
    throttle.close();
    for (XdsStream<?> stream : List.copyOf(streams.values())) {
      stream.fail(Status.UNAVAILABLE.withDescription("server shutting down; reconnect"));
    }
    List<Server> all = new ArrayList<>(secureServers);
    if (server != null) {
      all.add(server);
    }
    all.forEach(Server::shutdown);
    long deadline = System.nanoTime() + settings.maxConnectionAgeGrace().toNanos();
    for (Server each : all) {
      try {
        if (!each.awaitTermination(
            Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          each.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        each.shutdownNow();
      }
    }
    pushes.shutdownNow();
  }

  /** How long {@link #close} waits for streams to end. */
  public Duration shutdownGrace() {
    return settings.maxConnectionAgeGrace();
  }
}
