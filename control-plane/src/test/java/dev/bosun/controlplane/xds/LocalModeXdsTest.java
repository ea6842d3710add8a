package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.xds.XdsServerSettings;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bosun as {@code bosun local} runs it (the same runtime), on a directory describing one service
 * whose endpoint is a real gRPC server on loopback: grpc-java's xDS client resolves the service
 * through Bosun and carries an RPC; an Envoy gateway is told clearly it is not served yet; and
 * {@code /debug/syncz} shows the client in sync.
 */
class LocalModeXdsTest {
  @TempDir Path dir;

  @Test
  void proxylessClient_routesThroughBosun_gatewayIsRefusedClearly_synczShowsState()
      throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server backend =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(health.getHealthService())
            .build()
            .start();
    Files.writeString(
        dir.resolve("mesh.yaml"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: demo}
        spec:
          clusterIP: 10.96.0.10
          ports: [{name: grpc, port: 7070, targetPort: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo-1, namespace: demo, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: %d, protocol: TCP}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        """
            .formatted(backend.getPort(), backend.getPort()));

    try (ControlPlaneRuntime runtime =
        new ControlPlaneRuntime(
            new MeshSettings(
                "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(100)),
            new InetSocketAddress("127.0.0.1", 0),
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            Set.of(LocalDirectorySource.NAME))) {
      runtime.own(new LocalDirectorySource(dir, runtime.mesh()).start(Duration.ofMillis(200)));
      await().atMost(Duration.ofSeconds(30)).until(runtime.mesh()::ready);

      ManagedChannel channel = XdsClients.channel(runtime.xds().port(), "demo", "echo.demo:7070");
      try {
        HealthCheckResponse response =
            HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .withWaitForReady()
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        URI syncz =
            URI.create(
                "http://127.0.0.1:" + runtime.monitoring().address().getPort() + "/debug/syncz");
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> {
                  String body =
                      HttpClient.newHttpClient()
                          .send(
                              HttpRequest.newBuilder(syncz).build(),
                              HttpResponse.BodyHandlers.ofString())
                          .body();
                  return body.contains(".demo~demo.svc.cluster.local")
                      && body.contains("\"eds\"")
                      && !body.contains("STALE");
                });
        String nodeId = runtime.xds().syncStatus().get(0).get("nodeId").toString();
        URI dump =
            URI.create(
                "http://127.0.0.1:"
                    + runtime.monitoring().address().getPort()
                    + "/debug/config_dump?proxyID="
                    + java.net.URLEncoder.encode(nodeId, java.nio.charset.StandardCharsets.UTF_8));
        String body =
            HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(dump).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(body)
            .contains("\"echo.demo:7070\"")
            .contains("outbound|7070||echo.demo.svc.cluster.local")
            .contains("\"acknowledged\" : true")
            .contains("\"portValue\" : " + backend.getPort());
      } finally {
        channel.shutdownNow();
      }

      // A gateway (router) node is served too: the mesh's clusters and BlackHoleCluster.
      assertThat(gatewayClusterNames(runtime.xds().port()))
          .contains("outbound|7070||echo.demo.svc.cluster.local", "BlackHoleCluster")
          .doesNotContain("PassthroughCluster");
    } finally {
      backend.shutdownNow();
    }
  }

  private static java.util.List<String> gatewayClusterNames(int port) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
    try {
      CompletableFuture<DiscoveryResponse> first = new CompletableFuture<>();
      StreamObserver<DiscoveryRequest> requests =
          AggregatedDiscoveryServiceGrpc.newStub(channel)
              .streamAggregatedResources(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse value) {
                      first.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                      first.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                      first.completeExceptionally(new AssertionError("stream closed"));
                    }
                  });
      requests.onNext(
          DiscoveryRequest.newBuilder()
              .setNode(
                  Node.newBuilder()
                      .setId(
                          "router~10.0.0.9~ingress-1.istio-system~istio-system.svc.cluster.local"))
              .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
              .build());
      java.util.List<String> names = new java.util.ArrayList<>();
      for (com.google.protobuf.Any resource : first.get(10, TimeUnit.SECONDS).getResourcesList()) {
        names.add(resource.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class).getName());
      }
      requests.onCompleted();
      return names;
    } finally {
      channel.shutdownNow();
    }
  }
}
