package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.security.TokenReviews;
import dev.bosun.e2e.install.Chart;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URI;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every call {@code bosun serve} makes to the API server, recorded by the mock API server while it
 * starts, publishes the root, signs a certificate, elects leaders and patches the webhook
 * configuration, is one the chart's ClusterRole or Role allows. A call Bosun starts making without
 * a rule fails this test. Against a real API server the same scenario runs Bosun under the chart's
 * ServiceAccount token and roles, so the API server refuses what they do not allow.
 */
@EnableKubernetesMockClient(crud = true)
class ChartRbacTest {
  KubernetesClient client;
  KubernetesMockServer server;
  private static final String REVISION = "rbac";
  private MeshWorld world;

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  /** One API call: what RBAC checks. */
  record Call(String verb, String group, String resource, String namespace) {
    @Override
    public String toString() {
      return verb
          + " "
          + (group.isEmpty() ? "" : group + "/")
          + resource
          + (namespace == null ? " (cluster-wide)" : " in " + namespace);
    }
  }

  @Test
  void everyCallBosunMakes_isAllowedByTheChartsRoles() throws Exception {
    TokenReviews.install(server);
    world = new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"));
    List<JsonNode> chart =
        Chart.documents(Chart.template(world.caNamespace, Map.of("revision", REVISION), false));
    world.installChart(chart).runAs("istiod").startBosun("--revision", REVISION);
    String root = world.publishedRoot();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = generator.generateKeyPair();
    WorkloadCertificates.call(
        world.securePort,
        root,
        world.token("orders"),
        WorkloadCertificates.csr(key, world.local("spiffe://cluster.local/ns/e2e/sa/orders")),
        3600);
    String validator = "istio-validator-" + REVISION + "-" + world.caNamespace;
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                world
                        .client
                        .admissionRegistration()
                        .v1()
                        .validatingWebhookConfigurations()
                        .withName(validator)
                        .get()
                        .getWebhooks()
                        .get(0)
                        .getClientConfig()
                        .getCaBundle()
                    != null);
    String injector =
        chart.stream()
            .filter(d -> d.path("kind").asText().equals("MutatingWebhookConfiguration"))
            .map(d -> d.path("metadata").path("name").asText())
            .findFirst()
            .orElseThrow();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                world
                        .client
                        .admissionRegistration()
                        .v1()
                        .mutatingWebhookConfigurations()
                        .withName(injector)
                        .get()
                        .getWebhooks()
                        .get(0)
                        .getClientConfig()
                        .getCaBundle()
                    != null);
    if (MeshWorld.realCluster()) {
      // The API server itself refused any call the roles do not allow: Bosun, running under the
      // chart's ServiceAccount, published the root, signed and patched the webhook above.
      return;
    }

    TreeSet<String> denied = new TreeSet<>();
    TreeSet<String> seen = new TreeSet<>();
    for (RecordedRequest request = server.takeRequest(1, TimeUnit.SECONDS);
        request != null;
        request = server.takeRequest(100, TimeUnit.MILLISECONDS)) {
      if (!"Bearer e2e".equals(request.getHeader("Authorization"))) {
        continue; // the test's own calls
      }
      Call call = call(request.getMethod(), request.getPath());
      if (call == null) {
        continue; // discovery (/api, /apis, /version): allowed to every authenticated user
      }
      seen.add(call.toString());
      if (!allowed(chart, call)) {
        denied.add(call + "  <- " + request.getMethod() + " " + request.getPath());
      }
    }
    assertThat(seen)
        .as("the calls recorded")
        .contains(
            "watch services (cluster-wide)",
            "create authentication.k8s.io/tokenreviews (cluster-wide)",
            world.local("create configmaps in e2e"),
            "update admissionregistration.k8s.io/validatingwebhookconfigurations (cluster-wide)",
            "update admissionregistration.k8s.io/mutatingwebhookconfigurations (cluster-wide)");
    assertThat(denied).as("calls the chart's roles do not allow").isEmpty();
  }

  /** The RBAC view of a request path, or null for a non-resource path. */
  static Call call(String method, String pathAndQuery) {
    URI uri = URI.create(pathAndQuery);
    String[] parts = uri.getPath().replaceAll("^/+", "").split("/");
    List<String> segments = new ArrayList<>(List.of(parts));
    String group;
    if (segments.size() >= 3 && segments.get(0).equals("api")) {
      group = "";
      segments = segments.subList(2, segments.size());
    } else if (segments.size() >= 4 && segments.get(0).equals("apis")) {
      group = segments.get(1);
      segments = segments.subList(3, segments.size());
    } else {
      return null;
    }
    String namespace = null;
    if (segments.size() >= 3 && segments.get(0).equals("namespaces")) {
      namespace = segments.get(1);
      segments = segments.subList(2, segments.size());
    }
    String resource = segments.get(0);
    boolean named = segments.size() >= 2;
    if (segments.size() >= 3) {
      resource = resource + "/" + segments.get(2);
    }
    String query = uri.getQuery() == null ? "" : uri.getQuery();
    String verb =
        switch (method) {
          case "GET" -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> method.toLowerCase();
        };
    return new Call(verb, group, resource, namespace);
  }

  private static boolean allowed(List<JsonNode> chart, Call call) {
    for (JsonNode document : chart) {
      String kind = document.path("kind").asText();
      boolean cluster = kind.equals("ClusterRole");
      boolean role =
          kind.equals("Role")
              && document.path("metadata").path("namespace").asText().equals(call.namespace());
      if ((cluster || role) && grants(document.path("rules"), call)) {
        return true;
      }
    }
    return false;
  }

  private static boolean grants(JsonNode rules, Call call) {
    for (JsonNode rule : rules) {
      if (has(rule.path("apiGroups"), call.group())
          && has(rule.path("resources"), call.resource())
          && has(rule.path("verbs"), call.verb())) {
        return true;
      }
    }
    return false;
  }

  private static boolean has(JsonNode values, String value) {
    for (JsonNode v : values) {
      if (v.asText().equals(value) || v.asText().equals("*")) {
        return true;
      }
    }
    return false;
  }
}
