package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.NODE;
import static dev.bosun.xds.AdsClient.request;
import static dev.bosun.xds.FakeResources.cluster;
import static dev.bosun.xds.FakeResources.endpoints;
import static dev.bosun.xds.FakeResources.listener;
import static dev.bosun.xds.FakeResources.route;
import static dev.bosun.xds.XdsTypes.CLUSTER;
import static dev.bosun.xds.XdsTypes.ENDPOINT;
import static dev.bosun.xds.XdsTypes.LISTENER;
import static dev.bosun.xds.XdsTypes.ROUTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** State-of-the-world ADS, driven by a raw gRPC client on loopback. */
class AdsProtocolTest {
  private final FakeResources resources = new FakeResources();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private XdsServer server;

  @BeforeEach
  void start() throws Exception {
    resources.put(CLUSTER, cluster("outbound|9080||reviews", 1));
    resources.put(CLUSTER, cluster("outbound|9080||ratings", 1));
    resources.put(ENDPOINT, endpoints("outbound|9080||reviews", 100));
    server =
        startServer(
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                .withStreamRate(1000, 1000));
  }

  private XdsServer startServer(XdsServerSettings settings) throws Exception {
    XdsServer started = new XdsServer(settings, resources, meters, System::nanoTime).start();
    started.setReady(true);
    closeables.add(started);
    return started;
  }

  private AdsClient client() {
    AdsClient client = new AdsClient(server.port()).sotw();
    closeables.add(client);
    return client;
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable closeable : closeables) {
      closeable.close();
    }
  }

  private static List<String> names(DiscoveryResponse response) {
    List<String> names = new ArrayList<>();
    for (Any any : response.getResourcesList()) {
      try {
        if (any.is(Cluster.class)) {
          names.add(any.unpack(Cluster.class).getName());
        } else if (any.is(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class)) {
          names.add(
              any.unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class)
                  .getClusterName());
        } else if (any.is(io.envoyproxy.envoy.config.listener.v3.Listener.class)) {
          names.add(any.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class).getName());
        } else if (any.is(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.class)) {
          names.add(
              any.unpack(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.class).getName());
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return names;
  }

  private String status(String type) {
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> types =
        (Map<String, Map<String, Object>>) server.syncStatus().get(0).get("types");
    return (String) types.get(XdsTypes.shortName(type)).get("status");
  }

  /** Waits until a push has regenerated resources, so an absence of responses means something. */
  private void pushAndSettle(Set<String> types) {
    int before = resources.generations.get();
    assertThat(server.push(PushScope.types(types, "test", System.nanoTime()))).isPositive();
    await().atMost(Duration.ofSeconds(10)).until(() -> resources.generations.get() > before);
  }

  @Test
  void firstRequest_wildcardClusters_getsEveryCluster_thenAckIsSynced() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    DiscoveryResponse response = client.next();
    assertThat(response.getTypeUrl()).isEqualTo(CLUSTER);
    assertThat(names(response)).containsExactly("outbound|9080||ratings", "outbound|9080||reviews");
    assertThat(response.getNonce()).isNotEmpty();
    assertThat(status(CLUSTER)).isEqualTo("STALE");

    client.ack(response, List.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> status(CLUSTER).equals("SYNCED"));
    pushAndSettle(Set.of(CLUSTER));
    assertThat(client.poll(300)).as("nothing changed: nothing sent").isNull();
    assertThat(meters.get("pilot_xds").gauge().value()).isEqualTo(1.0);
  }

  @Test
  void nack_isNotAnsweredWithTheSameConfig_butTheNextChangeIsSent() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    client.ack(client.next(), List.of());

    resources.put(CLUSTER, cluster("outbound|9080||reviews", 99));
    server.push(PushScope.types(Set.of(CLUSTER), "change", System.nanoTime()));
    DiscoveryResponse bad = client.next();
    client.nack(bad, List.of(), "invalid connect_timeout");
    await().atMost(Duration.ofSeconds(10)).until(() -> status(CLUSTER).equals("NACKED"));
    assertThat(server.syncStatus().get(0).toString()).contains("invalid connect_timeout");
    assertThat(meters.get("pilot_total_xds_rejects").tag("type", "cds").counter().count())
        .isEqualTo(1.0);
    assertThat(meters.get("pilot_xds_cds_reject").gauge().value()).isEqualTo(1.0);

    pushAndSettle(Set.of(CLUSTER));
    pushAndSettle(Set.of(CLUSTER));
    assertThat(client.poll(300)).as("the rejected config is not sent again").isNull();

    resources.put(CLUSTER, cluster("outbound|9080||reviews", 2));
    server.push(PushScope.types(Set.of(CLUSTER), "fix", System.nanoTime()));
    DiscoveryResponse fixed = client.next();
    assertThat(fixed.getVersionInfo()).isNotEqualTo(bad.getVersionInfo());
    client.ack(fixed, List.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> status(CLUSTER).equals("SYNCED"));
  }

  @Test
  void staleNonce_isIgnored() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    DiscoveryResponse first = client.next();
    resources.put(CLUSTER, cluster("outbound|9080||extra", 1));
    server.push(PushScope.types(Set.of(CLUSTER), "change", System.nanoTime()));
    DiscoveryResponse second = client.next();

    client.nack(first, List.of(), "late rejection of an old response");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                meters.find("pilot_xds_expired_nonce").counter() != null
                    && meters.get("pilot_xds_expired_nonce").counter().count() == 1.0);
    assertThat(status(CLUSTER)).as("the stale NACK changed nothing").isEqualTo("STALE");
    client.ack(second, List.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> status(CLUSTER).equals("SYNCED"));
  }

  @Test
  void namedResources_unknownOnesDoNotBlockOthers_andAreSentWhenTheyAppear() throws Exception {
    AdsClient client = client();
    List<String> wanted = List.of("outbound|9080||reviews", "outbound|9080||ratings");
    client.send(request(ENDPOINT, "", "", wanted));
    DiscoveryResponse response = client.next();
    assertThat(names(response)).containsExactly("outbound|9080||reviews");
    client.ack(response, wanted);

    resources.put(ENDPOINT, endpoints("outbound|9080||ratings", 100));
    server.push(PushScope.types(Set.of(ENDPOINT), "ratings appeared", System.nanoTime()));
    DiscoveryResponse later = client.next();
    assertThat(names(later)).as("only what changed").containsExactly("outbound|9080||ratings");
  }

  @Test
  void pushNamingItsResources_regeneratesOnlyThose() throws Exception {
    resources.put(ENDPOINT, endpoints("outbound|9080||ratings", 100));
    AdsClient client = client();
    List<String> wanted = List.of("outbound|9080||reviews", "outbound|9080||ratings");
    client.send(request(ENDPOINT, "", "", wanted));
    client.ack(client.next(), wanted);

    resources.put(ENDPOINT, endpoints("outbound|9080||reviews", 5));
    resources.put(ENDPOINT, endpoints("outbound|9080||ratings", 5));
    server.push(
        PushScope.types(Set.of(ENDPOINT), "ratings endpoints", System.nanoTime())
            .onlyNames(ENDPOINT, Set.of("outbound|9080||ratings", "outbound|9080||unrelated")));
    assertThat(names(client.next())).containsExactly("outbound|9080||ratings");
  }

  @Test
  void identicalResourcesForManyProxies_areSerialisedOnce() throws Exception {
    List<AdsClient> clients = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      AdsClient client = client();
      client.send(request(CLUSTER, "", "", List.of()));
      clients.add(client);
    }
    for (AdsClient client : clients) {
      assertThat(names(client.next())).hasSize(2);
    }
    assertThat(server.encoder().size()).as("two distinct clusters, packed once each").isEqualTo(2);
  }

  @Test
  void clientThatStopsReading_costsOnlyItself() throws Exception {
    for (int i = 0; i < 200; i++) {
      resources.put(CLUSTER, cluster("outbound|80||big-" + i + "." + "x".repeat(2000), 1));
    }
    io.grpc.ClientCall<io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest, DiscoveryResponse>
        stuck;
    try (AdsClient holder = new AdsClient(server.port())) {
      stuck =
          holder.channel.newCall(
              io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc
                  .getStreamAggregatedResourcesMethod(),
              io.grpc.CallOptions.DEFAULT);
      stuck.start(new io.grpc.ClientCall.Listener<>() {}, new io.grpc.Metadata());
      // Never call request(): the client reads nothing, so flow control fills up.
      stuck.sendMessage(request(CLUSTER, "", "", List.of()));
      AdsClient healthy = client();
      healthy.send(request(CLUSTER, "", "", List.of()));
      healthy.ack(healthy.next(), List.of());
      for (int round = 0; round < 20; round++) {
        resources.put(CLUSTER, cluster("outbound|80||round", round + 1));
        server.push(PushScope.types(Set.of(CLUSTER), "round " + round, System.nanoTime()));
        DiscoveryResponse response = healthy.next();
        healthy.ack(response, List.of());
      }
      assertThat(server.connectedStreams()).isEqualTo(2);
      stuck.cancel("done", null);
    }
  }

  @Test
  void resourceViolatingEnvoysConstraints_isNotSent_andThePreviousOneStays() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    client.ack(client.next(), List.of());

    resources.put(CLUSTER, cluster("outbound|9080||reviews", -5));
    pushAndSettle(Set.of(CLUSTER));
    assertThat(client.poll(300)).as("the invalid cluster is held back").isNull();
    assertThat(meters.get("bosun_xds_invalid_resources").tag("type", "cds").counter().count())
        .isPositive();
    assertThat(server.syncStatus().get(0).toString())
        .contains("lastInvalidResource=outbound|9080||reviews: ");

    resources.put(CLUSTER, cluster("outbound|9080||reviews", 3));
    server.push(PushScope.types(Set.of(CLUSTER), "fixed", System.nanoTime()));
    assertThat(names(client.next())).contains("outbound|9080||reviews");
  }

  @Test
  void unsubscribedNames_areNotPushed() throws Exception {
    resources.put(ROUTE, route("r1", "a"));
    resources.put(ROUTE, route("r2", "b"));
    AdsClient client = client();
    client.send(request(ROUTE, "", "", List.of("r1", "r2")));
    DiscoveryResponse response = client.next();
    assertThat(names(response)).containsExactly("r1", "r2");
    client.ack(response, List.of("r1"));
    await().atMost(Duration.ofSeconds(10)).until(() -> status(ROUTE).equals("SYNCED"));

    resources.put(ROUTE, route("r2", "changed"));
    pushAndSettle(Set.of(ROUTE));
    assertThat(client.poll(300)).isNull();

    resources.put(ROUTE, route("r1", "changed"));
    server.push(PushScope.types(Set.of(ROUTE), "r1", System.nanoTime()));
    assertThat(names(client.next())).containsExactly("r1");
  }

  @Test
  void push_followsClustersEndpointsListenersRoutes_withRemovalsLast() throws Exception {
    resources.put(LISTENER, listener("virtualOutbound"));
    resources.put(ROUTE, route("9080", "reviews"));
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    client.ack(client.next(), List.of());
    client.send(
        request(ENDPOINT, "", "", List.of("outbound|9080||reviews", "outbound|9080||details")));
    client.ack(client.next(), List.of("outbound|9080||reviews", "outbound|9080||details"));
    client.send(request(LISTENER, "", "", List.of()));
    client.ack(client.next(), List.of());
    client.send(request(ROUTE, "", "", List.of("9080")));
    client.ack(client.next(), List.of("9080"));

    resources.remove(CLUSTER, "outbound|9080||ratings");
    resources.put(CLUSTER, cluster("outbound|9080||details", 1));
    resources.put(ENDPOINT, endpoints("outbound|9080||details", 100));
    resources.put(LISTENER, listener("0.0.0.0_9080"));
    resources.put(ROUTE, route("9080", "reviews-and-details"));
    server.push(PushScope.everything("routes moved", System.nanoTime()));

    DiscoveryResponse cdsAdd = client.next();
    DiscoveryResponse eds = client.next();
    DiscoveryResponse lds = client.next();
    DiscoveryResponse rds = client.next();
    DiscoveryResponse cdsRemove = client.next();
    assertThat(List.of(cdsAdd, eds, lds, rds, cdsRemove))
        .extracting(DiscoveryResponse::getTypeUrl)
        .containsExactly(CLUSTER, ENDPOINT, LISTENER, ROUTE, CLUSTER);
    assertThat(names(cdsAdd))
        .as("make before break: the removed cluster is still there")
        .containsExactlyInAnyOrder(
            "outbound|9080||details", "outbound|9080||ratings", "outbound|9080||reviews");
    assertThat(names(eds)).containsExactly("outbound|9080||details");
    assertThat(names(cdsRemove))
        .containsExactlyInAnyOrder("outbound|9080||details", "outbound|9080||reviews");
  }

  @Test
  void twoStreamsForOneNode_areTrackedAndPushedSeparately() throws Exception {
    AdsClient first = client();
    AdsClient second = client();
    first.send(request(CLUSTER, "", "", List.of()));
    second.send(request(CLUSTER, "", "", List.of()));
    first.ack(first.next(), List.of());
    second.ack(second.next(), List.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> server.syncStatus().size() == 2);
    assertThat(server.syncStatus()).extracting(s -> s.get("nodeId")).containsOnly(NODE.getId());

    resources.put(CLUSTER, cluster("outbound|80||new", 1));
    server.push(PushScope.types(Set.of(CLUSTER), "new", System.nanoTime()));
    assertThat(names(first.next())).contains("outbound|80||new");
    assertThat(names(second.next())).contains("outbound|80||new");
  }

  @Test
  void reconnectToANewServerInstance_startsFresh() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    DiscoveryResponse response = client.next();
    client.ack(response, List.of());
    server.close();
    assertThat(client.nextStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

    server =
        startServer(
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                .withStreamRate(1000, 1000));
    AdsClient again = client();
    again.send(request(CLUSTER, response.getNonce(), response.getVersionInfo(), List.of()));
    assertThat(names(again.next()))
        .as("everything again: the new instance knows nothing of the old stream")
        .containsExactly("outbound|9080||ratings", "outbound|9080||reviews");
  }

  @Test
  void firstRequestWithoutNodeId_isInvalidArgument() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()).toBuilder().clearNode().build());
    Status status = client.nextStatus();
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).isEqualTo("the first request must carry node.id");
  }

  @Test
  void notReady_isUnavailable() throws Exception {
    server.setReady(false);
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    Status status = client.nextStatus();
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("control plane not ready yet; retry");
  }

  @Test
  void streamsJustBeyondTheBurst_waitForTheirTurn_insteadOfBeingRefused() throws Exception {
    XdsServer limited =
        startServer(
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                .withStreamRate(10, 1));
    List<AdsClient> clients = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      AdsClient client = new AdsClient(limited.port()).sotw();
      closeables.add(client);
      clients.add(client);
      client.send(request(CLUSTER, "", "", List.of()));
    }
    for (AdsClient client : clients) {
      Object first = client.received.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(first)
          .as("a token comes within the wait, so the stream is served")
          .isInstanceOf(DiscoveryResponse.class);
    }
  }

  @Test
  void flood_beyondTheStreamRate_isResourceExhausted_andTheServerStaysHealthy() throws Exception {
    XdsServer limited =
        startServer(
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                .withStreamRate(0.001, 3));
    List<AdsClient> clients = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      AdsClient client = new AdsClient(limited.port()).sotw();
      closeables.add(client);
      clients.add(client);
      client.send(request(CLUSTER, "", "", List.of()));
    }
    int accepted = 0;
    int exhausted = 0;
    for (AdsClient client : clients) {
      Object first = client.received.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      if (first instanceof DiscoveryResponse) {
        accepted++;
      } else if (first instanceof Status status
          && status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        exhausted++;
      }
    }
    assertThat(accepted).isEqualTo(3);
    assertThat(exhausted).isEqualTo(3);
    AdsClient healthy = client();
    healthy.send(request(CLUSTER, "", "", List.of()));
    assertThat(names(healthy.next())).hasSize(2);
  }

  @Test
  void shutdown_endsStreamsWithARetriableStatus() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER, "", "", List.of()));
    client.next();
    server.close();
    Status status = client.nextStatus();
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("server shutting down; reconnect");
  }
}
