package dev.bosun.controlplane.monitor;

import static dev.bosun.controlplane.Fixtures.service;
import static dev.bosun.controlplane.Yaml.doc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import dev.bosun.crd.IstioJson;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitoringServerTest {
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpClient http = HttpClient.newHttpClient();
  private MeshModel mesh;
  private MonitoringServer server;

  @BeforeEach
  void start() throws Exception {
    mesh =
        new MeshModel(
                new MeshSettings(
                    "cluster.local", "istio-system", Duration.ofMillis(5), Duration.ofMillis(50)),
                meters,
                Ticker.SYSTEM,
                Clock.systemUTC(),
                Set.of("test"),
                new UpstreamTlsChangeFilter())
            .start();
    server =
        new MonitoringServer(new InetSocketAddress("127.0.0.1", 0), mesh, meters, () -> true)
            .start();
  }

  @AfterEach
  void stop() {
    server.close();
    mesh.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void ready_is503UntilSynced_then200() throws Exception {
    HttpResponse<String> before = get("/ready");
    assertThat(before.statusCode()).isEqualTo(503);
    assertThat(before.body()).isEqualTo("not ready: waiting for test to sync\n");

    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(() -> get("/ready").statusCode() == 200);
    assertThat(get("/ready").body()).isEqualTo("ready\n");
  }

  @Test
  void debugPages_showConfigRejectionsAndTheSnapshot() throws Exception {
    mesh.kubernetesUpserted(service("shop", "reviews", 9080, "http"), "test");
    mesh.istioUpserted(
        doc(
            """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: shop}
        spec: {host: reviews.shop.svc.cluster.local}
        """),
        "test");
    mesh.istioUpserted(
        doc(
            """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: broken, namespace: shop}
        spec: {host: ratings, subsets: [{name: v1}, {name: v1}]}
        """),
        "bad.yaml:1");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);

    JsonNode configz = IstioJson.json().readTree(get("/debug/configz").body());
    assertThat(configz.path("objects")).hasSize(1);
    assertThat(configz.at("/objects/0/metadata/name").asText()).isEqualTo("reviews");
    assertThat(configz.at("/rejected/0/name").asText()).isEqualTo("broken");
    assertThat(configz.at("/rejected/0/origin").asText()).isEqualTo("bad.yaml:1");
    assertThat(configz.at("/rejected/0/errors/0").asText()).contains("spec.subsets[1].name");

    JsonNode snapshot = IstioJson.json().readTree(get("/debug/snapshot").body());
    assertThat(snapshot.path("ready").asBoolean()).isTrue();
    assertThat(snapshot.path("services").asInt()).isEqualTo(1);
    assertThat(snapshot.at("/config/DestinationRule").asInt()).isEqualTo(1);
    assertThat(snapshot.path("rejectedConfig").asInt()).isEqualTo(1);
    assertThat(snapshot.path("version").asLong()).isPositive();
  }

  @Test
  void registryzAndEndpointz_showTheSnapshotsServicesAndEndpoints_narrowedByQuery()
      throws Exception {
    assertThat(get("/debug/registryz").statusCode()).isEqualTo(404);
    assertThat(get("/debug/registryz").body()).isEqualTo("no snapshot built yet\n");
    mesh.kubernetesUpserted(service("shop", "reviews", 9080, "http"), "test");
    mesh.kubernetesUpserted(service("ops", "grafana", 3000, "http"), "test");
    mesh.kubernetesUpserted(
        dev.bosun.controlplane.Fixtures.pod(
            "shop",
            "reviews-1",
            "10.0.0.7",
            "bookinfo-reviews",
            java.util.Map.of("app", "reviews")),
        "test");
    mesh.kubernetesUpserted(
        dev.bosun.controlplane.Fixtures.slice(
            "shop",
            "reviews",
            "reviews",
            "http",
            9080,
            dev.bosun.controlplane.Fixtures.Ep.ready("10.0.0.7", "reviews-1")),
        "test");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);

    JsonNode registry = IstioJson.json().readTree(get("/debug/registryz").body());
    assertThat(registry).hasSize(2);
    JsonNode shop = IstioJson.json().readTree(get("/debug/registryz?namespace=shop").body());
    assertThat(shop).hasSize(1);
    assertThat(shop.at("/0/hostname").asText()).isEqualTo("reviews.shop.svc.cluster.local");
    assertThat(shop.at("/0/ports/0/port").asInt()).isEqualTo(9080);
    assertThat(shop.at("/0/ports/0/protocol").asText()).isEqualTo("HTTP");

    JsonNode endpoints =
        IstioJson.json()
            .readTree(get("/debug/endpointz?host=reviews.shop.svc.cluster.local").body());
    assertThat(endpoints.fieldNames())
        .toIterable()
        .containsExactly("reviews.shop.svc.cluster.local");
    JsonNode reviews = endpoints.path("reviews.shop.svc.cluster.local");
    assertThat(reviews).hasSize(1);
    assertThat(reviews.at("/0/address").asText()).isEqualTo("10.0.0.7");
    assertThat(reviews.at("/0/serviceAccount").asText()).isEqualTo("bookinfo-reviews");
    assertThat(reviews.at("/0/health").asText()).isEqualTo("HEALTHY");
  }

  @Test
  void pagesLargerThanTheLimit_areRefused_withAHintToNarrowThem() throws Exception {
    mesh.kubernetesUpserted(service("shop", "reviews", 9080, "http"), "test");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);
    server.limitPages(64);

    HttpResponse<String> refused = get("/debug/registryz");
    assertThat(refused.statusCode()).isEqualTo(413);
    assertThat(refused.body())
        .startsWith("/debug/registryz: the answer (")
        .endsWith(
            "bytes) is larger than the 64 bytes served; narrow it (?proxyID=, ?namespace=, ?host=)\n");
  }

  @Test
  void kindsNotAppliedYet_areStoredAndListed_andTriggerNoPush() throws Exception {
    mesh.kubernetesUpserted(service("shop", "reviews", 9080, "http"), "test");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);
    String before = triggers(get("/metrics").body());

    mesh.istioUpserted(
        doc(
            """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: ratelimit, namespace: shop}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
        """),
        "test");
    mesh.istioUpserted(
        doc(
            """
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {name: mesh-default, namespace: istio-system}
        spec:
          tracing:
          - randomSamplingPercentage: 150
        """),
        "bad.yaml:3");

    JsonNode configz = IstioJson.json().readTree(get("/debug/configz").body());
    assertThat(configz.at("/notApplied/0/kind").asText()).isEqualTo("EnvoyFilter");
    assertThat(configz.at("/notApplied/0/name").asText()).isEqualTo("ratelimit");
    assertThat(configz.at("/notApplied/0/reason").asText())
        .isEqualTo("Bosun does not apply EnvoyFilter objects yet");
    assertThat(configz.path("notApplied")).hasSize(1);
    assertThat(configz.at("/rejected/0/kind").asText()).isEqualTo("Telemetry");
    assertThat(configz.at("/rejected/0/errors/0").asText())
        .contains("spec.tracing[0].randomSamplingPercentage");
    assertThat(triggers(get("/metrics").body()))
        .as("an object of a kind Bosun does not apply triggers no push")
        .isEqualTo(before);
  }

  /** The config push-trigger count from a metrics page. */
  private static String triggers(String metrics) {
    return metrics
        .lines()
        .filter(line -> line.startsWith("pilot_push_triggers_total{type=\"config\"}"))
        .findFirst()
        .orElse("none");
  }

  @Test
  void metrics_usesIstiodNames() throws Exception {
    mesh.kubernetesUpserted(service("shop", "reviews", 9080, "http"), "test");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("pilot_services 1.0");
    assertThat(metrics)
        .contains("pilot_k8s_reg_events_total{event=\"update\",type=\"Service\"} 1.0");
    assertThat(metrics).contains("bosun_config_rejected{kind=\"VirtualService\"} 0.0");
    assertThat(get("/debug/nothing").statusCode()).isEqualTo(404);
  }
}
