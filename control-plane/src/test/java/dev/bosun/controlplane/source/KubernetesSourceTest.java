package dev.bosun.controlplane.source;

import static dev.bosun.controlplane.Fixtures.node;
import static dev.bosun.controlplane.Fixtures.pod;
import static dev.bosun.controlplane.Fixtures.service;
import static dev.bosun.controlplane.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.Fixtures.Ep;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The informers against fabric8's mock API server in CRUD mode, end to end into snapshots. */
@EnableKubernetesMockClient(crud = true)
class KubernetesSourceTest {
  KubernetesMockServer server;
  KubernetesClient client;

  private MeshModel mesh;
  private KubernetesSource source;

  @BeforeEach
  void start() {
    mesh =
        new MeshModel(
                new MeshSettings(
                    "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(200)),
                new SimpleMeterRegistry(),
                Ticker.SYSTEM,
                Clock.systemUTC(),
                Set.of(KubernetesSource.NAME),
                new UpstreamTlsChangeFilter())
            .start();
    source = new KubernetesSource(client, mesh).start();
    await().atMost(Duration.ofSeconds(30)).until(mesh::ready);
  }

  @AfterEach
  void stop() {
    source.close();
    mesh.close();
  }

  private void apply(String yaml) {
    try {
      GenericKubernetesResource resource =
          IstioJson.yaml().readValue(yaml, GenericKubernetesResource.class);
      IstioKind kind = IstioKind.of(resource.getApiVersion(), resource.getKind()).orElseThrow();
      client
          .genericKubernetesResources(KubernetesSource.resource(kind))
          .inNamespace(resource.getMetadata().getNamespace())
          .resource(resource)
          .createOr(existing -> existing.update());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void deleteIstio(IstioKind kind, String namespace, String name) {
    client
        .genericKubernetesResources(KubernetesSource.resource(kind))
        .inNamespace(namespace)
        .withName(name)
        .delete();
  }

  private MeshSnapshot awaitSnapshot(java.util.function.Predicate<MeshSnapshot> condition) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> mesh.snapshot() != null && condition.test(mesh.snapshot()));
    return mesh.snapshot();
  }

  @Test
  void everyWatchedKind_reachesTheSnapshot_andUpdatesAndDeletesFollow() {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build())
        .create();
    client.nodes().resource(node("node-a", "eu-west1", "eu-west1-b")).create();
    client
        .pods()
        .inNamespace("shop")
        .resource(
            pod(
                "shop",
                "reviews-v1",
                "10.1.0.1",
                "reviews",
                Map.of("app", "reviews", "version", "v1")))
        .create();
    client
        .services()
        .inNamespace("shop")
        .resource(service("shop", "reviews", 9080, "http"))
        .create();
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace("shop")
        .resource(
            slice(
                "shop",
                "reviews-abc",
                "reviews",
                "http",
                9080,
                new Ep("10.1.0.1", "reviews-v1", "node-a", true, false)))
        .create();
    for (String yaml : IstioObjects.ALL) {
      apply(yaml);
    }

    String host = "reviews.shop.svc.cluster.local";
    MeshSnapshot snapshot =
        awaitSnapshot(
            s ->
                s.endpoints(host).size() == 1
                    && java.util.Arrays.stream(IstioKind.values())
                        .filter(IstioKind::applied)
                        .allMatch(kind -> s.config().list(kind).size() == 1));
    // Kinds Bosun only accepts are stored, without a push of their own.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                mesh.store().all().entrySet().stream()
                    .allMatch(kind -> kind.getValue().size() == 1));
    Endpoint endpoint = snapshot.endpoints(host).get(0);
    assertThat(endpoint.labels()).containsEntry("version", "v1");
    assertThat(endpoint.serviceAccount()).isEqualTo("reviews");
    assertThat(endpoint.locality().region()).isEqualTo("eu-west1");
    assertThat(snapshot.service("legacy.shop.internal")).as("ServiceEntry host").isPresent();
    assertThat(snapshot.endpoints("legacy.shop.internal")).as("from the WorkloadEntry").hasSize(1);
    assertThat(mesh.registryCounts()).containsEntry("namespaces", 1).containsEntry("nodes", 1);

    // update: a second endpoint (an endpoints-only push), then remove the Service and the VS
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace("shop")
        .resource(
            slice(
                "shop",
                "reviews-abc",
                "reviews",
                "http",
                9080,
                new Ep("10.1.0.1", "reviews-v1", "node-a", true, false),
                new Ep("10.1.0.2", null, null, true, false)))
        .update();
    awaitSnapshot(s -> s.endpoints(host).size() == 2);

    client.services().inNamespace("shop").withName("reviews").delete();
    deleteIstio(IstioKind.VIRTUAL_SERVICE, "shop", "reviews");
    awaitSnapshot(
        s -> s.service(host).isEmpty() && s.config().list(IstioKind.VIRTUAL_SERVICE).isEmpty());
  }

  /**
   * Objects that bypassed admission (no webhook, or one that failed open). An unknown enum value
   * cannot be used here: the API server's structural schema refuses or prunes it before Bosun sees
   * the object, and so does the mock server.
   */
  @Test
  void invalidObject_createdDirectly_isSkippedAndReported_whileOthersApply() {
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: broken, namespace: shop}
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
              weight: -1
        """);
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: shop}
        spec:
          host: ratings.shop.svc.cluster.local
          subsets: [{name: v1, labels: {version: v1}}, {name: v1, labels: {version: v2}}]
        """);
    apply(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: details, namespace: shop}
        spec: {host: details.shop.svc.cluster.local}
        """);
    MeshSnapshot snapshot =
        awaitSnapshot(s -> s.config().list(IstioKind.DESTINATION_RULE).size() == 1);
    assertThat(snapshot.config().list(IstioKind.DESTINATION_RULE))
        .extracting(e -> e.key().name())
        .containsExactly("details");
    assertThat(snapshot.config().list(IstioKind.VIRTUAL_SERVICE)).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> mesh.store().rejected().size() == 2);
    assertThat(mesh.store().rejected())
        .extracting(r -> r.key().name())
        .containsExactly("broken", "ratings");
    assertThat(mesh.store().rejected().get(0).messages())
        .containsExactly(
            "VirtualService shop/broken: spec.http[0].route[0].weight: -1: negative weight (expected: >= 0)");
  }

  @Test
  void conflictingVirtualServices_resolveByPrecedence() {
    String vs =
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: shop, creationTimestamp: "%s"}
        spec:
          hosts: [reviews.shop.svc.cluster.local]
          http:
          - route:
            - destination: {host: reviews.shop.svc.cluster.local, subset: %s}
        """;
    apply(vs.formatted("b-newer", "2026-05-01T00:00:00Z", "v2"));
    apply(vs.formatted("a-older", "2026-01-01T00:00:00Z", "v1"));
    MeshSnapshot snapshot =
        awaitSnapshot(s -> s.config().list(IstioKind.VIRTUAL_SERVICE).size() == 2);
    List<ConfigKey> winners =
        List.of(
            snapshot
                .config()
                .virtualService("reviews.shop.svc.cluster.local", "shop")
                .orElseThrow()
                .key());
    assertThat(snapshot.conflicts()).hasSize(1);
    ConfigKey winner = snapshot.conflicts().get(0).winner();
    assertThat(winners).containsExactly(winner);
    // The mock API server may stamp its own creation time; either way the older stamp wins.
    var entries = snapshot.config().list(IstioKind.VIRTUAL_SERVICE);
    assertThat(winner).isEqualTo(entries.get(0).key());
    assertThat(entries.get(0).created()).isBeforeOrEqualTo(entries.get(1).created());
  }
}
