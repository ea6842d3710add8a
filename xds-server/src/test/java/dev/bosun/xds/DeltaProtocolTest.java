package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.NODE;
import static dev.bosun.xds.FakeResources.cluster;
import static dev.bosun.xds.FakeResources.endpoints;
import static dev.bosun.xds.XdsTypes.CLUSTER;
import static dev.bosun.xds.XdsTypes.ENDPOINT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
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

/** Incremental ADS, driven by a raw gRPC client on loopback. */
class DeltaProtocolTest {
  private final FakeResources resources = new FakeResources();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private XdsServer server;

  @BeforeEach
  void start() throws Exception {
    resources.put(CLUSTER, cluster("a", 1));
    resources.put(CLUSTER, cluster("b", 1));
    resources.put(ENDPOINT, endpoints("a", 100));
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                    .withStreamRate(1000, 1000),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    closeables.add(server);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable closeable : closeables) {
      closeable.close();
    }
  }

  private AdsClient client() {
    AdsClient client = new AdsClient(server.port()).delta();
    closeables.add(client);
    return client;
  }

  private static DeltaDiscoveryRequest.Builder request(String type) {
    return DeltaDiscoveryRequest.newBuilder().setNode(NODE).setTypeUrl(type);
  }

  private static List<String> names(DeltaDiscoveryResponse response) {
    return response.getResourcesList().stream().map(Resource::getName).toList();
  }

  private void ack(AdsClient client, DeltaDiscoveryResponse response) {
    client.send(request(response.getTypeUrl()).setResponseNonce(response.getNonce()).build());
  }

  @Test
  void wildcard_getsEverything_thenOnlyChanges_thenRemovalsLast() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER).build());
    DeltaDiscoveryResponse first = client.nextDelta();
    assertThat(names(first)).containsExactly("a", "b");
    assertThat(first.getResourcesList()).allMatch(r -> !r.getVersion().isEmpty());
    ack(client, first);

    resources.put(CLUSTER, cluster("a", 5));
    resources.put(CLUSTER, cluster("c", 1));
    resources.remove(CLUSTER, "b");
    server.push(PushScope.types(Set.of(CLUSTER), "change", System.nanoTime()));
    DeltaDiscoveryResponse changes = client.nextDelta();
    assertThat(names(changes)).containsExactly("a", "c");
    assertThat(changes.getRemovedResourcesList()).as("removals come last").isEmpty();
    DeltaDiscoveryResponse removals = client.nextDelta();
    assertThat(removals.getResourcesList()).isEmpty();
    assertThat(removals.getRemovedResourcesList()).containsExactly("b");
  }

  @Test
  void subscribeAndUnsubscribe_namedResources() throws Exception {
    AdsClient client = client();
    client.send(request(ENDPOINT).addResourceNamesSubscribe("a").build());
    DeltaDiscoveryResponse first = client.nextDelta();
    assertThat(names(first)).containsExactly("a");
    ack(client, first);

    resources.put(ENDPOINT, endpoints("b", 100));
    client.send(request(ENDPOINT).addResourceNamesSubscribe("b").build());
    assertThat(names(client.nextDelta())).containsExactly("b");

    client.send(request(ENDPOINT).addResourceNamesUnsubscribe("a").build());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.syncStatus().toString().contains("1 names"));
    resources.put(ENDPOINT, endpoints("a", 7));
    int before = resources.generations.get();
    server.push(PushScope.types(Set.of(ENDPOINT), "a changed", System.nanoTime()));
    await().atMost(Duration.ofSeconds(10)).until(() -> resources.generations.get() > before);
    assertThat(client.poll(300)).as("a is no longer subscribed").isNull();

    resources.remove(ENDPOINT, "b");
    server.push(PushScope.types(Set.of(ENDPOINT), "b removed", System.nanoTime()));
    assertThat(client.nextDelta().getRemovedResourcesList()).containsExactly("b");
  }

  @Test
  void reconnect_withInitialResourceVersions_getsOnlyWhatDiffers() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER).build());
    DeltaDiscoveryResponse first = client.nextDelta();
    Map<String, String> versions = new java.util.HashMap<>();
    first.getResourcesList().forEach(r -> versions.put(r.getName(), r.getVersion()));
    client.close();

    resources.put(CLUSTER, cluster("b", 9));
    AdsClient again = client();
    again.send(request(CLUSTER).putAllInitialResourceVersions(versions).build());
    DeltaDiscoveryResponse resumed = again.nextDelta();
    assertThat(names(resumed)).as("a is unchanged and not resent").containsExactly("b");
  }

  @Test
  void nack_isNotAnsweredWithTheSameResources() throws Exception {
    AdsClient client = client();
    client.send(request(CLUSTER).build());
    ack(client, client.nextDelta());
    resources.put(CLUSTER, cluster("a", 42));
    server.push(PushScope.types(Set.of(CLUSTER), "bad", System.nanoTime()));
    DeltaDiscoveryResponse bad = client.nextDelta();
    client.send(
        request(CLUSTER)
            .setResponseNonce(bad.getNonce())
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("no"))
            .build());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.syncStatus().toString().contains("NACKED"));
    int before = resources.generations.get();
    server.push(PushScope.types(Set.of(CLUSTER), "again", System.nanoTime()));
    await().atMost(Duration.ofSeconds(10)).until(() -> resources.generations.get() > before);
    assertThat(client.poll(300)).isNull();
  }
}
