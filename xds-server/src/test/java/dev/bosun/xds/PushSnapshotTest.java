package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.request;
import static dev.bosun.xds.XdsTypes.CLUSTER;
import static dev.bosun.xds.XdsTypes.ENDPOINT;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A push carries its snapshot: every type a stream is sent for it is generated from that snapshot,
 * and a subscription made later is answered from the latest one pushed.
 */
class PushSnapshotTest {
  private static final String NAME = "outbound|80||echo";

  /** Resources whose content is the snapshot (an Integer) they were generated from. */
  private static final class VersionedResources implements XdsGenerator {
    final List<Object> seen = new CopyOnWriteArrayList<>();

    @Override
    public Map<String, ? extends Message> generate(
        XdsProxy proxy, String typeUrl, Set<String> names) {
      throw new AssertionError("the server must pass the pushed snapshot");
    }

    @Override
    public Map<String, ? extends Message> generate(
        XdsProxy proxy, String typeUrl, Set<String> names, Object snapshot) {
      seen.add(snapshot);
      int version = snapshot == null ? 0 : (Integer) snapshot;
      return switch (typeUrl) {
        case CLUSTER -> Map.of(NAME, FakeResources.cluster(NAME, version + 1));
        case ENDPOINT -> Map.of(NAME, FakeResources.endpoints(NAME, version + 1));
        default -> Map.of();
      };
    }
  }

  private final VersionedResources resources = new VersionedResources();
  private XdsServer server;
  private AdsClient client;

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void pushWithASnapshot_generatesEveryTypeOfTheDrainFromIt() throws Exception {
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    server.push(PushScope.everything("first", System.nanoTime()).withSnapshot(1));
    client = new AdsClient(server.port()).sotw();
    client.send(request(CLUSTER, "", "", List.of()));
    DiscoveryResponse cds = client.next();
    assertThat(connectTimeout(cds)).as("a request is answered from the latest push").isEqualTo(2);
    client.ack(cds, List.of());
    client.send(request(ENDPOINT, "", "", List.of(NAME)));
    DiscoveryResponse eds = client.next();
    client.ack(eds, List.of(NAME));
    assertThat(client.poll(200)).isNull();
    resources.seen.clear();

    server.push(PushScope.everything("second", System.nanoTime()).withSnapshot(5));

    DiscoveryResponse pushedCds = client.next();
    DiscoveryResponse pushedEds = client.next();
    assertThat(pushedCds.getTypeUrl()).isEqualTo(CLUSTER);
    assertThat(connectTimeout(pushedCds)).isEqualTo(6);
    assertThat(pushedEds.getTypeUrl()).isEqualTo(ENDPOINT);
    assertThat(
            ClusterLoadAssignment.parseFrom(pushedEds.getResources(0).getValue())
                .getPolicy()
                .getOverprovisioningFactor()
                .getValue())
        .isEqualTo(6);
    assertThat(resources.seen).containsOnly(5);
  }

  @Test
  void pushConcerningSomeTypes_regeneratesAndSendsOnlyThose() throws Exception {
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    server.push(PushScope.everything("first", System.nanoTime()).withSnapshot(1));
    client = new AdsClient(server.port()).sotw();
    client.send(request(CLUSTER, "", "", List.of()));
    client.ack(client.next(), List.of());
    client.send(request(ENDPOINT, "", "", List.of(NAME)));
    client.ack(client.next(), List.of(NAME));
    assertThat(client.poll(200)).isNull();
    resources.seen.clear();

    server.push(
        PushScope.everything("endpoints only", System.nanoTime())
            .concerning((type, proxy) -> type.equals(ENDPOINT))
            .withSnapshot(7));

    DiscoveryResponse pushed = client.next();
    assertThat(pushed.getTypeUrl()).isEqualTo(ENDPOINT);
    client.ack(pushed, List.of(NAME));
    assertThat(client.poll(300)).as("clusters were not concerned").isNull();
    assertThat(resources.seen).as("generated once, for EDS").containsExactly(7);
  }

  private static long connectTimeout(DiscoveryResponse response)
      throws InvalidProtocolBufferException {
    return Cluster.parseFrom(response.getResources(0).getValue()).getConnectTimeout().getSeconds();
  }
}
