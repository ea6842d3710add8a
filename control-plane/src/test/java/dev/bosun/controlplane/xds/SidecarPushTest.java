package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsServerSettings;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raw ADS client presenting Istio sidecar node metadata, as the Istio agent does: it gets CDS,
 * EDS, LDS and RDS that pass Envoy's constraints, ACKs them, and when only a VirtualService changes
 * it receives RDS alone.
 */
class SidecarPushTest {
  @TempDir Path dir;

  private static final Node NODE =
      Node.newBuilder()
          .setId(
              "sidecar~10.44.0.12~reviews-v1-6b7c5d4f8-a1b2c.bookinfo~bookinfo.svc.cluster.local")
          .setMetadata(
              Struct.newBuilder()
                  .putFields("NAMESPACE", Value.newBuilder().setStringValue("bookinfo").build())
                  .putFields("ISTIO_VERSION", Value.newBuilder().setStringValue("1.27.0").build()))
          .build();

  @Test
  void virtualServiceChange_resendsOnlyRoutes() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    try (ControlPlaneRuntime runtime =
        new ControlPlaneRuntime(
            new MeshSettings(
                "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(100)),
            new InetSocketAddress("127.0.0.1", 0),
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            Set.of(LocalDirectorySource.NAME))) {
      runtime.own(new LocalDirectorySource(dir, runtime.mesh()).start(Duration.ofMillis(100)));
      await().atMost(Duration.ofSeconds(30)).until(runtime.mesh()::ready);
      ManagedChannel channel =
          Grpc.newChannelBuilder(
                  "127.0.0.1:" + runtime.xds().port(), InsecureChannelCredentials.create())
              .build();
      BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
      StreamObserver<DiscoveryRequest> requests =
          AggregatedDiscoveryServiceGrpc.newStub(channel)
              .streamAggregatedResources(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse value) {
                      responses.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      EnvoyValidator validator = new EnvoyValidator();
      try {
        DiscoveryResponse cds = request(requests, responses, XdsTypes.CLUSTER, List.of(), true);
        assertThat(cds.getResourcesCount()).isGreaterThan(5);
        List<String> edsNames =
            cds.getResourcesList().stream()
                .map(any -> unpack(any, io.envoyproxy.envoy.config.cluster.v3.Cluster.class))
                .filter(
                    c ->
                        c.getType()
                            == io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.EDS)
                .map(io.envoyproxy.envoy.config.cluster.v3.Cluster::getName)
                .toList();
        DiscoveryResponse eds = request(requests, responses, XdsTypes.ENDPOINT, edsNames, true);
        DiscoveryResponse lds = request(requests, responses, XdsTypes.LISTENER, List.of(), true);
        DiscoveryResponse rds =
            request(requests, responses, XdsTypes.ROUTE, List.of("9080", "9090"), true);
        for (DiscoveryResponse response : List.of(cds, eds, lds, rds)) {
          for (var any : response.getResourcesList()) {
            assertThat(validator.check(unpackAny(any))).as(any.getTypeUrl()).isEmpty();
          }
        }
        ack(requests, rds, List.of("9080", "9090"));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !runtime.xds().syncStatus().toString().contains("STALE"));

        String traffic = Files.readString(dir.resolve("traffic.yaml"));
        Files.writeString(
            dir.resolve("traffic.yaml"),
            traffic.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"));
        DiscoveryResponse changed = responses.poll(30, TimeUnit.SECONDS);
        assertThat(changed).isNotNull();
        assertThat(changed.getTypeUrl()).isEqualTo(XdsTypes.ROUTE);
        RouteConfiguration routes = unpack(changed.getResources(0), RouteConfiguration.class);
        assertThat(routes.toString()).contains("value: 50");
        ack(requests, changed, List.of("9080", "9090"));
        assertThat(responses.poll(1, TimeUnit.SECONDS))
            .as("no CDS, EDS or LDS: they did not change")
            .isNull();
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static DiscoveryResponse request(
      StreamObserver<DiscoveryRequest> requests,
      BlockingQueue<DiscoveryResponse> responses,
      String type,
      List<String> names,
      boolean ack)
      throws InterruptedException {
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(NODE)
            .setTypeUrl(type)
            .addAllResourceNames(names)
            .build());
    DiscoveryResponse response = responses.poll(30, TimeUnit.SECONDS);
    assertThat(response).as(type).isNotNull();
    assertThat(response.getTypeUrl()).isEqualTo(type);
    if (ack) {
      ack(requests, response, names);
    }
    return response;
  }

  private static void ack(
      StreamObserver<DiscoveryRequest> requests, DiscoveryResponse response, List<String> names) {
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(response.getTypeUrl())
            .setVersionInfo(response.getVersionInfo())
            .setResponseNonce(response.getNonce())
            .addAllResourceNames(names)
            .build());
  }

  private static <T extends com.google.protobuf.Message> T unpack(
      com.google.protobuf.Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static com.google.protobuf.Message unpackAny(com.google.protobuf.Any any) {
    return switch (any.getTypeUrl()) {
      case XdsTypes.CLUSTER -> unpack(any, io.envoyproxy.envoy.config.cluster.v3.Cluster.class);
      case XdsTypes.ENDPOINT ->
          unpack(any, io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class);
      case XdsTypes.LISTENER -> unpack(any, io.envoyproxy.envoy.config.listener.v3.Listener.class);
      default -> unpack(any, RouteConfiguration.class);
    };
  }
}
