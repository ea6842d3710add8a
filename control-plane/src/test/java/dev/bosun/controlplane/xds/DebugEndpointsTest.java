package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * istiod's debug pages on the monitoring port, read as its tools read them, with a raw ADS client
 * connected to {@code bosun local}: syncz's nonces per type, connections, adsz's watches, the last
 * push, and a clear 404 for a proxy that is not connected.
 */
class DebugEndpointsTest {
  private static final String NODE_ID =
      "sidecar~10.44.0.12~reviews-v1-6b7c5d4f8-a1b2c.bookinfo~bookinfo.svc.cluster.local";

  @TempDir Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(ControlPlaneRuntime runtime, String path) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + runtime.monitoring().address().getPort() + path);
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode json(ControlPlaneRuntime runtime, String path) throws Exception {
    HttpResponse<String> response = get(runtime, path);
    assertThat(response.statusCode()).as(path).isEqualTo(200);
    return IstioJson.json().readTree(response.body());
  }

  @Test
  void syncz_connections_adsz_pushStatus_inIstiodsShapes() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    Node node =
        TestNodes.sidecar(NODE_ID, "bookinfo", java.util.Map.of("app", "reviews")).toBuilder()
            .setLocality(Locality.newBuilder().setZone("zone-a"))
            .build();
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir);
        RawAdsClient ads = new RawAdsClient(runtime.xds().port(), node)) {
      DiscoveryResponse cds = ads.request(XdsTypes.CLUSTER, List.of());
      ads.ack(cds, List.of());
      DiscoveryResponse rds = ads.request(XdsTypes.ROUTE, List.of("9080"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  json(runtime, "/debug/syncz")
                      .path(0)
                      .path("cluster_acked")
                      .asText()
                      .equals(cds.getNonce()));

      JsonNode syncz = json(runtime, "/debug/syncz").get(0);
      assertThat(syncz.path("proxy").asText()).isEqualTo(NODE_ID);
      assertThat(syncz.path("proxy_type").asText()).isEqualTo("sidecar");
      assertThat(syncz.path("cluster_id").asText()).isEqualTo("Kubernetes");
      assertThat(syncz.path("istio_version").asText()).isEqualTo("1.27.0");
      assertThat(syncz.path("cluster_sent").asText()).isEqualTo(cds.getNonce());
      assertThat(syncz.path("route_sent").asText()).isEqualTo(rds.getNonce());
      assertThat(syncz.has("route_acked")).as("not acked yet: left out, as istiod").isFalse();
      assertThat(syncz.has("listener_sent")).as("never asked for").isFalse();
      assertThat(syncz.at("/resources/" + pointer(XdsTypes.CLUSTER) + "/acked").asText())
          .isEqualTo(cds.getNonce());
      assertThat(json(runtime, "/debug/syncz?namespace=bookinfo")).hasSize(1);
      assertThat(json(runtime, "/debug/syncz?namespace=other")).isEmpty();

      JsonNode connections = json(runtime, "/debug/connections");
      assertThat(connections.path("totalClients").asInt()).isEqualTo(1);
      assertThat(connections.at("/clients/0/address").asText()).contains("127.0.0.1");

      JsonNode adsz = json(runtime, "/debug/adsz?proxyID=" + encode(NODE_ID));
      assertThat(adsz.path("totalClients").asInt()).isEqualTo(1);
      JsonNode client = adsz.at("/clients/0");
      assertThat(client.at("/labels/app").asText()).isEqualTo("reviews");
      assertThat(client.at("/metadata/NAMESPACE").asText()).isEqualTo("bookinfo");
      assertThat(client.at("/locality/zone").asText()).isEqualTo("zone-a");
      assertThat(client.path("watches").path(XdsTypes.ROUTE))
          .extracting(JsonNode::asText)
          .containsExactly("9080");
      assertThat(client.path("watches").path(XdsTypes.CLUSTER)).as("wildcard").isEmpty();

      JsonNode push = json(runtime, "/debug/push_status");
      assertThat(push.path("pushes").asLong()).isPositive();
      assertThat(push.path("version").asLong()).isPositive();
      assertThat(push.path("reasons")).isNotEmpty();

      for (String page : List.of("/debug/adsz?proxyID=", "/debug/config_dump?proxyID=")) {
        HttpResponse<String> missing =
            get(runtime, page + "sidecar~1.2.3.4~gone.x~x.svc.cluster.local");
        assertThat(missing.statusCode()).as(page).isEqualTo(404);
        assertThat(missing.body())
            .isEqualTo(
                "Proxy sidecar~1.2.3.4~gone.x~x.svc.cluster.local not connected to this Bosun"
                    + " replica. It may be connected to another replica (/debug/syncz lists the"
                    + " proxies connected here).\n");
      }
    }
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** A JSON pointer segment for a key holding {@code /}. */
  private static String pointer(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
