package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raw ADS client presenting the stock ingress gateway's node (type {@code router}, its pod's
 * labels) to {@code bosun local}: it gets CDS, EDS, LDS and RDS that pass Envoy's constraints, ACKs
 * them, and when only a VirtualService bound to its Gateway changes it receives RDS alone.
 */
class GatewayPushTest {
  @TempDir Path dir;

  private static final Node NODE =
      Node.newBuilder()
          .setId(
              "router~10.44.0.2~istio-ingressgateway-5d8f9c7b6-q7w8e.istio-system"
                  + "~istio-system.svc.cluster.local")
          .setMetadata(
              Struct.newBuilder()
                  .putFields("NAMESPACE", Value.newBuilder().setStringValue("istio-system").build())
                  .putFields(
                      "LABELS",
                      Value.newBuilder()
                          .setStructValue(
                              Struct.newBuilder()
                                  .putFields(
                                      "istio",
                                      Value.newBuilder().setStringValue("ingressgateway").build())
                                  .putFields(
                                      "app",
                                      Value.newBuilder()
                                          .setStringValue("istio-ingressgateway")
                                          .build()))
                          .build()))
          .build();

  private static final String SECRET =
      """
      apiVersion: v1
      kind: Secret
      metadata: {name: bookinfo-cert, namespace: istio-system}
      type: kubernetes.io/tls
      stringData:
        tls.crt: "-----BEGIN CERTIFICATE-----\\n%s\\n-----END CERTIFICATE-----\\n"
        tls.key: "-----BEGIN PRIVATE KEY-----\\nkey\\n-----END PRIVATE KEY-----\\n"
      """;

  @Test
  void certificateRotation_resendsOnlyTheSecret_toAGatewayWithAVerifiedIdentity() throws Exception {
    Path input = Path.of("src/test/resources/gateway-golden/ingress-bookinfo/input.yaml");
    Files.copy(input, dir.resolve("mesh.yaml"));
    Files.writeString(dir.resolve("secret.yaml"), SECRET.formatted("first"));
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir)) {
      // A port whose authorizer accepts the node: its streams have a verified identity.
      int secure =
          runtime
              .xds()
              .startSecure(
                  new InetSocketAddress("127.0.0.1", 0),
                  io.grpc.InsecureServerCredentials.create(),
                  (headers, node) -> null,
                  List.of());
      try (RawAdsClient ads = new RawAdsClient(secure, NODE)) {
        for (String type : List.of(XdsTypes.CLUSTER, XdsTypes.LISTENER)) {
          ads.ack(ads.request(type, List.of()), List.of());
        }
        List<String> secrets = List.of("kubernetes://bookinfo-cert");
        DiscoveryResponse sds = ads.request(XdsTypes.SECRET, secrets);
        assertThat(sds.getResourcesCount()).isEqualTo(1);
        assertThat(sds.getResources(0).getValue().toStringUtf8()).contains("first");
        ads.ack(sds, secrets);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !runtime.xds().syncStatus().toString().contains("STALE"));

        Files.writeString(dir.resolve("secret.yaml"), SECRET.formatted("rotated"));
        DiscoveryResponse changed = ads.next(Duration.ofSeconds(30));
        assertThat(changed).isNotNull();
        assertThat(changed.getTypeUrl()).isEqualTo(XdsTypes.SECRET);
        assertThat(changed.getResources(0).getValue().toStringUtf8()).contains("rotated");
        ads.ack(changed, secrets);
        assertThat(ads.next(Duration.ofSeconds(1)))
            .as("nothing else changed with the Secret")
            .isNull();

        // The config dump shows the certificate that was sent, never its key.
        String dump =
            java.net.http.HttpClient.newHttpClient()
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(
                                "http://127.0.0.1:"
                                    + runtime.monitoring().address().getPort()
                                    + "/debug/config_dump?proxyID="
                                    + java.net.URLEncoder.encode(
                                        NODE.getId(), java.nio.charset.StandardCharsets.UTF_8)))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(dump)
            .contains("kubernetes://bookinfo-cert", "[redacted]")
            .doesNotContain("PRIVATE KEY");
      }
      // The same gateway on the plaintext port has no verified identity and gets no Secret.
      try (RawAdsClient plain = new RawAdsClient(runtime.xds().port(), NODE)) {
        plain.subscribe(XdsTypes.SECRET, List.of("kubernetes://bookinfo-cert"));
        DiscoveryResponse answer = plain.next(Duration.ofSeconds(2));
        assertThat(answer == null ? 0 : answer.getResourcesCount()).isZero();
      }
    }
  }

  @Test
  void theGatewayServicesEndpointsArrivingLate_moveItsListenersToTheTargetPorts() throws Exception {
    String input =
        Files.readString(Path.of("src/test/resources/gateway-golden/ingress-bookinfo/input.yaml"));
    // The gateway's EndpointSlice names only its status port at first (a Service port added later,
    // or a slice that lags the Service); its pod is left out, so the change that follows is an
    // endpoints-only push with no identity change.
    int pod = input.indexOf("---\napiVersion: v1\nkind: Pod");
    int start = input.indexOf("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice");
    int end = input.indexOf("---", start + 4);
    String slice = input.substring(start, end);
    String statusOnly =
        slice
            .replace("- {name: http2, port: 8080, protocol: TCP}\n", "")
            .replace("- {name: https, port: 8443, protocol: TCP}\n", "");
    Files.writeString(
        dir.resolve("mesh.yaml"), input.substring(0, pod) + statusOnly + input.substring(end));
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir)) {
      try (RawAdsClient ads = new RawAdsClient(runtime.xds().port(), NODE)) {
        DiscoveryResponse lds = ads.request(XdsTypes.LISTENER, List.of());
        ads.ack(lds, List.of());
        assertThat(listenerNames(lds))
            .as("no Service endpoint is the gateway yet: the ports as written")
            .containsExactlyInAnyOrder("0.0.0.0_80", "0.0.0.0_443");

        Files.writeString(
            dir.resolve("mesh.yaml"), input.substring(0, pod) + slice + input.substring(end));
        // The server adds the new listeners before it removes the old ones (each ACKed), so
        // connections on the old ports are not cut first.
        DiscoveryResponse moved = null;
        for (int i = 0; i < 6; i++) {
          DiscoveryResponse next = ads.next(Duration.ofSeconds(30));
          assertThat(next).as("a push after the gateway's endpoints arrived").isNotNull();
          ads.ack(next, List.of());
          if (next.getTypeUrl().equals(XdsTypes.LISTENER)) {
            moved = next;
            if (!listenerNames(next).contains("0.0.0.0_80")) {
              break;
            }
          }
        }
        assertThat(moved).isNotNull();
        assertThat(listenerNames(moved)).containsExactlyInAnyOrder("0.0.0.0_8080", "0.0.0.0_8443");
      }
    }
  }

  private static List<String> listenerNames(DiscoveryResponse lds) {
    return lds.getResourcesList().stream()
        .map(any -> RawAdsClient.unpack(any, Listener.class).getName())
        .toList();
  }

  @Test
  void virtualServiceChange_resendsOnlyTheGatewaysRoutes() throws Exception {
    Path input = Path.of("src/test/resources/gateway-golden/ingress-bookinfo/input.yaml");
    Files.copy(input, dir.resolve("mesh.yaml"));
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir)) {
      EnvoyValidator validator = new EnvoyValidator();
      try (RawAdsClient ads = new RawAdsClient(runtime.xds().port(), NODE)) {
        DiscoveryResponse cds = ads.request(XdsTypes.CLUSTER, List.of());
        ads.ack(cds, List.of());
        List<String> clusters =
            cds.getResourcesList().stream()
                .map(any -> RawAdsClient.unpack(any, Cluster.class).getName())
                .toList();
        assertThat(clusters)
            .contains("outbound|9080||productpage.bookinfo.svc.cluster.local", "BlackHoleCluster")
            .doesNotContain("PassthroughCluster", "InboundPassthroughCluster");
        List<String> edsNames =
            cds.getResourcesList().stream()
                .map(any -> RawAdsClient.unpack(any, Cluster.class))
                .filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
                .map(Cluster::getName)
                .toList();
        DiscoveryResponse eds = ads.request(XdsTypes.ENDPOINT, edsNames);
        ads.ack(eds, edsNames);
        DiscoveryResponse lds = ads.request(XdsTypes.LISTENER, List.of());
        ads.ack(lds, List.of());
        assertThat(
                lds.getResourcesList().stream()
                    .map(any -> RawAdsClient.unpack(any, Listener.class).getName())
                    .toList())
            .as("port 80 and 443 of the gateway Service are listened on at their targetPorts")
            .containsExactlyInAnyOrder("0.0.0.0_8080", "0.0.0.0_8443");
        List<String> routeNames = List.of("http.8080", "https.443.https.bookinfo-gateway.bookinfo");
        DiscoveryResponse rds = ads.request(XdsTypes.ROUTE, routeNames);
        assertThat(rds.getResourcesCount()).isEqualTo(2);
        for (DiscoveryResponse response : List.of(cds, eds, lds, rds)) {
          for (var any : response.getResourcesList()) {
            assertThat(validator.check(RawAdsClient.unpack(any))).as(any.getTypeUrl()).isEmpty();
          }
        }
        ads.ack(rds, routeNames);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !runtime.xds().syncStatus().toString().contains("STALE"));

        String mesh = Files.readString(dir.resolve("mesh.yaml"));
        Files.writeString(
            dir.resolve("mesh.yaml"),
            mesh.replace("uri: {exact: /login}", "uri: {exact: /signin}"));
        DiscoveryResponse changed = ads.next(Duration.ofSeconds(30));
        assertThat(changed).isNotNull();
        assertThat(changed.getTypeUrl()).isEqualTo(XdsTypes.ROUTE);
        String routes =
            changed.getResourcesList().stream()
                .map(any -> RawAdsClient.unpack(any, RouteConfiguration.class).toString())
                .reduce("", String::concat);
        assertThat(routes).contains("/signin").doesNotContain("/login");
        ads.ack(changed, routeNames);
        assertThat(ads.next(Duration.ofSeconds(1)))
            .as("no CDS, EDS or LDS: they did not change")
            .isNull();
      }
    }
  }
}
