package dev.bosun.controlplane.registry;

import static dev.bosun.controlplane.Fixtures.node;
import static dev.bosun.controlplane.Fixtures.pod;
import static dev.bosun.controlplane.Fixtures.service;
import static dev.bosun.controlplane.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.Fixtures.Ep;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Endpoint.Health;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.Protocol;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ServiceRegistryTest {
  private static final String REVIEWS = "reviews.shop.svc.cluster.local";
  private final ServiceRegistry registry = new ServiceRegistry("cluster.local");

  @Test
  void service_isKnownByFqdn_withIstioProtocolSelection() {
    RegistryChange change = registry.upsertService(service("shop", "reviews", 9080, "http-api"));
    assertThat(change.services()).containsExactly(REVIEWS);
    MeshService service = registry.services().get(REVIEWS);
    assertThat(service.ports())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.name()).isEqualTo("http-api");
              assertThat(p.port()).isEqualTo(9080);
              assertThat(p.protocol()).isEqualTo(Protocol.HTTP);
            });
    assertThat(service.resolution()).isEqualTo(MeshService.Resolution.STATIC);
    assertThat(new ServiceRegistry("corp.example").hostname("shop", "reviews"))
        .isEqualTo("reviews.shop.svc.corp.example");
  }

  @Test
  void endpoints_comeFromSlices_withPodLabelsIdentityLocalityAndHealth() {
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    registry.upsertNode(node("node-b", "us-east1", "us-east1-b"));
    registry.upsertPod(
        pod(
            "shop",
            "reviews-v1",
            "10.0.0.1",
            "reviews-sa",
            Map.of("app", "reviews", "version", "v1")));
    RegistryChange change =
        registry.upsertEndpointSlice(
            slice(
                "shop",
                "reviews-1",
                "reviews",
                "http",
                9080,
                new Ep("10.0.0.1", "reviews-v1", "node-b", true, false),
                new Ep("10.0.0.2", null, null, false, false),
                new Ep("10.0.0.3", null, null, false, true)));
    assertThat(change.endpoints()).containsExactly(REVIEWS);
    assertThat(change.services()).isEmpty();

    var endpoints = registry.endpoints(REVIEWS);
    assertThat(endpoints)
        .extracting(Endpoint::address)
        .containsExactly("10.0.0.1", "10.0.0.2", "10.0.0.3");
    Endpoint first = endpoints.get(0);
    assertThat(first.labels()).containsEntry("version", "v1");
    assertThat(first.serviceAccount()).isEqualTo("reviews-sa");
    assertThat(first.locality()).isEqualTo(new Locality("us-east1", "us-east1-b", ""));
    assertThat(first.ports()).containsEntry("http", 9080);
    assertThat(first.health()).isEqualTo(Health.HEALTHY);
    assertThat(endpoints.get(1).health()).isEqualTo(Health.UNHEALTHY);
    assertThat(endpoints.get(2).health()).isEqualTo(Health.TERMINATING);
  }

  @Test
  void podRelabel_isAnEndpointsOnlyChange_forExactlyTheServicesThatIncludeIt() {
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    registry.upsertService(service("shop", "ratings", 9080, "http"));
    registry.upsertPod(pod("shop", "reviews-v1", "10.0.0.1", "sa", Map.of("version", "v1")));
    registry.upsertEndpointSlice(
        slice("shop", "reviews-1", "reviews", "http", 9080, Ep.ready("10.0.0.1", "reviews-v1")));
    registry.upsertEndpointSlice(
        slice("shop", "ratings-1", "ratings", "http", 9080, Ep.ready("10.0.0.9", null)));

    RegistryChange change =
        registry.upsertPod(pod("shop", "reviews-v1", "10.0.0.1", "sa", Map.of("version", "v2")));
    assertThat(change).isEqualTo(RegistryChange.endpoints(Set.of(REVIEWS)));
    assertThat(registry.endpoints(REVIEWS).get(0).labels()).containsEntry("version", "v2");

    assertThat(
            registry
                .upsertPod(pod("shop", "reviews-v1", "10.0.0.1", "sa", Map.of("version", "v2")))
                .isEmpty())
        .as("an update that changes nothing routing uses")
        .isTrue();
  }

  @Test
  void slicesBeforeTheirService_areUsedOnceTheServiceExists() {
    registry.upsertEndpointSlice(
        slice("shop", "reviews-1", "reviews", "http", 9080, Ep.ready("10.0.0.1", null)));
    assertThat(registry.endpoints(REVIEWS)).isEmpty();
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    assertThat(registry.endpoints(REVIEWS))
        .extracting(Endpoint::address)
        .containsExactly("10.0.0.1");
  }

  @Test
  void sliceDelete_removesItsEndpoints_serviceDelete_removesTheService() {
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    registry.upsertEndpointSlice(
        slice("shop", "a", "reviews", "http", 9080, Ep.ready("10.0.0.1", null)));
    registry.upsertEndpointSlice(
        slice("shop", "b", "reviews", "http", 9080, Ep.ready("10.0.0.2", null)));
    assertThat(registry.deleteEndpointSlice("shop", "a"))
        .isEqualTo(RegistryChange.endpoints(Set.of(REVIEWS)));
    assertThat(registry.endpoints(REVIEWS))
        .extracting(Endpoint::address)
        .containsExactly("10.0.0.2");
    assertThat(registry.deleteService("shop", "reviews"))
        .isEqualTo(RegistryChange.services(Set.of(REVIEWS)));
    assertThat(registry.services()).doesNotContainKey(REVIEWS);
    assertThat(registry.endpoints(REVIEWS)).isEmpty();
  }

  @Test
  void headlessAndExternalNameServices_resolveAsIstioDoes() {
    registry.upsertService(
        new ServiceBuilder(service("shop", "db", 5432, "tcp"))
            .editSpec()
            .withClusterIP("None")
            .endSpec()
            .build());
    registry.upsertService(
        new ServiceBuilder(service("shop", "ext", 443, "tls"))
            .editSpec()
            .withType("ExternalName")
            .withExternalName("api.example.com")
            .withClusterIP(null)
            .endSpec()
            .build());
    assertThat(registry.services().get("db.shop.svc.cluster.local").resolution())
        .isEqualTo(MeshService.Resolution.PASSTHROUGH);
    assertThat(registry.services().get("ext.shop.svc.cluster.local").resolution())
        .isEqualTo(MeshService.Resolution.DNS);
  }

  @Test
  void exportToAnnotation_limitsVisibility() {
    registry.upsertService(
        new ServiceBuilder(service("shop", "internal", 80, "http"))
            .editMetadata()
            .addToAnnotations("networking.istio.io/exportTo", ".")
            .endMetadata()
            .build());
    MeshService service = registry.services().get("internal.shop.svc.cluster.local");
    assertThat(service.visibleFrom("shop")).isTrue();
    assertThat(service.visibleFrom("other")).isFalse();
  }

  @Test
  void nodeLocalityChange_isAnEndpointsOnlyChange() {
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    registry.upsertNode(node("n1", "r1", "z1"));
    registry.upsertEndpointSlice(
        slice("shop", "a", "reviews", "http", 9080, new Ep("10.0.0.1", null, "n1", true, false)));
    assertThat(registry.upsertNode(node("n1", "r1", "z2")))
        .isEqualTo(RegistryChange.endpoints(Set.of(REVIEWS)));
    assertThat(registry.endpoints(REVIEWS).get(0).locality().zone()).isEqualTo("z2");
  }
}
