package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.request;
import static dev.bosun.xds.FakeResources.cluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Streams take turns to send: with one turn, a client that stops reading keeps it only until the
 * turn times out, and every other client is still served, in order.
 */
class PushThrottleTest {
  private final FakeResources resources = new FakeResources();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private XdsServer server;

  private void start(int turns, Duration turnTimeout) throws Exception {
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                    .withStreamRate(1000, 1000)
                    .withPushConcurrency(turns, turnTimeout),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    server.close();
  }

  @Test
  void withOneTurn_everyClientIsServed() throws Exception {
    resources.put(XdsTypes.CLUSTER, cluster("a", 1));
    start(1, Duration.ofSeconds(30));
    List<AdsClient> clients = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      AdsClient client = new AdsClient(server.port()).sotw();
      closing.add(client);
      clients.add(client);
      client.send(request(XdsTypes.CLUSTER, "", "", List.of()));
    }
    for (AdsClient client : clients) {
      DiscoveryResponse response = client.next();
      assertThat(response.getResourcesCount()).isEqualTo(1);
    }
  }

  @Test
  void aClientThatStopsReading_keepsTheTurnOnlyUntilItTimesOut() throws Exception {
    // More than the client's flow-control window, so it stays buffered while nobody reads.
    String padding = "x".repeat(300);
    for (int i = 0; i < 8000; i++) {
      resources.put(XdsTypes.CLUSTER, cluster("outbound|80||" + padding + i, 1));
    }
    start(1, Duration.ofMillis(300));
    ManagedChannel silent =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    closing.add(silent::shutdownNow);
    ClientCall<DiscoveryRequest, DiscoveryResponse> call =
        silent.newCall(
            AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod(),
            CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, new Metadata()); // never asks for a message
    call.sendMessage(request(XdsTypes.CLUSTER, "", "", List.of()));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(server.throttle().holding())
                    .as("the silent client holds the only turn")
                    .isEqualTo(1));

    AdsClient reader = new AdsClient(server.port()).sotw();
    closing.add(reader);
    reader.send(request(XdsTypes.CLUSTER, "", "", List.of()));

    DiscoveryResponse response = reader.next();
    assertThat(response.getResourcesCount()).isEqualTo(8000);
    assertThat(server.throttle().waits()).as("the reader had to wait its turn").isPositive();
  }
}
