package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.xds.XdsServerSettings;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VirtualService and DestinationRule rules carried by grpc-java's own xDS client through {@code
 * bosun local}: subsets, weights, header matches, fault injection. Each backend answers a health
 * check for service "who" with its own status, so a response says which backend served it: v1 is
 * SERVING, v2 NOT_SERVING.
 */
class ProxylessRoutingTest {
  @TempDir Path dir;

  private final HealthStatusManager v1Health = new HealthStatusManager();
  private final HealthStatusManager v2Health = new HealthStatusManager();
  private Server v1;
  private Server v2;
  private ControlPlaneRuntime runtime;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    v1Health.setStatus("who", ServingStatus.SERVING);
    v2Health.setStatus("who", ServingStatus.NOT_SERVING);
    v1 =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(v1Health.getHealthService())
            .build()
            .start();
    v2 =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(v2Health.getHealthService())
            .build()
            .start();
    Files.writeString(dir.resolve("mesh.yaml"), mesh());
    Files.writeString(dir.resolve("routing.yaml"), routing(100, 0));
    runtime =
        new ControlPlaneRuntime(
            new MeshSettings(
                "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(100)),
            new InetSocketAddress("127.0.0.1", 0),
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            Set.of(LocalDirectorySource.NAME));
    runtime.own(new LocalDirectorySource(dir, runtime.mesh()).start(Duration.ofMillis(100)));
    await().atMost(Duration.ofSeconds(30)).until(runtime.mesh()::ready);
    channel = XdsClients.channel(runtime.xds().port(), "demo", "echo:7070");
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    runtime.close();
    v1.shutdownNow();
    v2.shutdownNow();
  }

  private String mesh() {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: echo, namespace: demo}
        spec:
          clusterIP: 10.96.0.10
          ports: [{name: grpc, port: 7070}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-v1, namespace: demo, labels: {app: echo, version: v1}}
        spec: {containers: [{name: echo, image: echo}]}
        status: {podIP: 127.0.0.1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: echo-v2, namespace: demo, labels: {app: echo, version: v2}}
        spec: {containers: [{name: echo, image: echo}]}
        status: {podIP: 127.0.0.1}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo-v1, namespace: demo, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
          targetRef: {kind: Pod, name: echo-v1, namespace: demo}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: echo-v2, namespace: demo, labels: {kubernetes.io/service-name: echo}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
          targetRef: {kind: Pod, name: echo-v2, namespace: demo}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: echo, namespace: demo}
        spec:
          host: echo.demo.svc.cluster.local
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """
        .formatted(v1.getPort(), v2.getPort());
  }

  private static String routing(int v1Weight, int v2Weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: echo, namespace: demo}
        spec:
          hosts: [echo]
          http:
          - match: [{headers: {x-fault: {exact: abort}}}]
            fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
            route: [{destination: {host: echo, subset: v1}}]
          - match: [{headers: {x-canary: {exact: "yes"}}}]
            route: [{destination: {host: echo, subset: v2}}]
          - route:
            - {destination: {host: echo, subset: v1}, weight: %d}
            - {destination: {host: echo, subset: v2}, weight: %d}
        """
        .formatted(v1Weight, v2Weight);
  }

  private ServingStatus who(String header, String value) {
    HealthGrpc.HealthBlockingStub stub =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .withWaitForReady();
    if (header != null) {
      Metadata metadata = new Metadata();
      metadata.put(Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER), value);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }
    return stub.check(HealthCheckRequest.newBuilder().setService("who").build()).getStatus();
  }

  @Test
  void leastRequest_isSentAsAPolicyList_thatGrpcJavaAccepts_andRoutesBy() throws Exception {
    assertThat(who(null, null)).isEqualTo(ServingStatus.SERVING);
    Files.writeString(
        dir.resolve("mesh.yaml"),
        mesh()
            .replace(
                "  host: echo.demo.svc.cluster.local\n",
                "  host: echo.demo.svc.cluster.local\n"
                    + "  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n"));
    String node = runtime.xds().syncStatus().get(0).get("nodeId").toString();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                runtime.xds().configDump(node).toString().contains("least_request")
                    && !runtime.xds().syncStatus().toString().contains("STALE"));
    assertThat(runtime.xds().syncStatus().toString()).doesNotContain("NACKED");
    String dump = runtime.xds().configDump(node).toString();
    assertThat(dump)
        .contains("envoy.load_balancing_policies.wrr_locality")
        .doesNotContain("lbPolicy\": \"LEAST_REQUEST");
    assertThat(who(null, null)).as("still routed").isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void weights_headerMatches_faults_andAnUpdateThatShiftsTraffic() throws Exception {
    for (int i = 0; i < 10; i++) {
      assertThat(who(null, null)).as("100/0 split: v1").isEqualTo(ServingStatus.SERVING);
      assertThat(who("x-canary", "yes"))
          .as("header match: v2")
          .isEqualTo(ServingStatus.NOT_SERVING);
    }
    StatusRuntimeException aborted =
        catchThrowableOfType(StatusRuntimeException.class, () -> who("x-fault", "abort"));
    assertThat(aborted.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

    Files.writeString(dir.resolve("routing.yaml"), routing(0, 100));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> who(null, null) == ServingStatus.NOT_SERVING);
    for (int i = 0; i < 10; i++) {
      assertThat(who(null, null)).as("0/100 split: v2").isEqualTo(ServingStatus.NOT_SERVING);
    }
  }
}
