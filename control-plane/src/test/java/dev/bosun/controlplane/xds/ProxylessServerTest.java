package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.XdsServerSettings;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real grpc-java xDS server ({@code XdsServerBuilder}) configured by Bosun: it asks for {@code
 * xds.istio.io/grpc/lds/inbound/0.0.0.0:<port>}, gets the plaintext listener its (default,
 * PERMISSIVE) PeerAuthentication calls for, starts serving, and answers a grpc-xds client routed to
 * it by Bosun.
 */
class ProxylessServerTest {
  @TempDir Path dir;

  private final HealthStatusManager health = new HealthStatusManager();
  private ControlPlaneRuntime runtime;
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void xdsServer_plaintextListener_becomesServing_andAnswersAnXdsClient() throws Exception {
    int port = freePort();
    Files.writeString(
        dir.resolve("mesh.yaml"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: demo}
        spec: {clusterIP: 10.96.0.10, ports: [{name: grpc, port: %d}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-1, namespace: demo, labels: {app: echo}}
        spec: {containers: [{name: echo, image: echo}]}
        status: {podIP: 127.0.0.1}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo-1, namespace: demo, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
          targetRef: {kind: Pod, name: echo-1, namespace: demo}
        """
            .formatted(port, port));
    runtime =
        new ControlPlaneRuntime(
            new MeshSettings(
                "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(100)),
            new InetSocketAddress("127.0.0.1", 0),
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            Set.of(LocalDirectorySource.NAME));
    runtime.own(new LocalDirectorySource(dir, runtime.mesh()).start(Duration.ofMillis(100)));
    await().atMost(Duration.ofSeconds(30)).until(runtime.mesh()::ready);

    String bootstrap =
        """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
                          "server_features": ["xds_v3"]}],
         "node": {"id": "sidecar~127.0.0.1~echo-1.demo~demo.svc.cluster.local",
                  "metadata": {"GENERATOR": "grpc", "NAMESPACE": "demo"}},
         "server_listener_resource_name_template": "xds.istio.io/grpc/lds/inbound/%%s"}
        """
            .formatted(runtime.xds().port());
    @SuppressWarnings("unchecked")
    Map<String, ?> parsed = IstioJson.json().readValue(bootstrap, Map.class);
    CompletableFuture<Void> serving = new CompletableFuture<>();
    health.setStatus("who", ServingStatus.SERVING);
    server =
        XdsServerBuilder.forPort(
                port, XdsServerCredentials.create(InsecureServerCredentials.create()))
            .overrideBootstrapForTest(parsed)
            .xdsServingStatusListener(
                new XdsServerBuilder.XdsServingStatusListener() {
                  @Override
                  public void onServing() {
                    serving.complete(null);
                  }

                  @Override
                  public void onNotServing(Throwable throwable) {
                    serving.completeExceptionally(throwable);
                  }
                })
            .addService(health.getHealthService())
            .build()
            .start();
    serving.get(30, TimeUnit.SECONDS);
    String listener = "xds.istio.io/grpc/lds/inbound/0.0.0.0:" + port;
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        runtime
                            .xds()
                            .configDump("sidecar~127.0.0.1~echo-1.demo~demo.svc.cluster.local")
                            .toString())
                    .as("the server acknowledged its plaintext inbound listener")
                    .contains(listener + "={version=")
                    .contains("acknowledged=true")
                    .contains("inbound-plaintext"));

    channel = XdsClients.channel(runtime.xds().port(), "demo", "echo:" + port);
    ServingStatus status =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .withWaitForReady()
            .check(HealthCheckRequest.newBuilder().setService("who").build())
            .getStatus();
    assertThat(status).isEqualTo(ServingStatus.SERVING);
  }
}
