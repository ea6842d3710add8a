package dev.bosun.e2e;

import static dev.bosun.e2e.MeshWorld.subsets;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.xds.RawAdsClient;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An Envoy sidecar's view of {@code bosun serve}: a raw ADS stream presenting the node the Istio
 * agent sends gets CDS, EDS, LDS and RDS that pass Envoy's own field constraints, ACKs them, and
 * afterwards receives only what a change touches: RDS for a VirtualService edit, EDS for a new pod.
 */
@EnableKubernetesMockClient(crud = true)
class SidecarNodeTest {
  KubernetesClient client;
  private MeshWorld world;

  private String cluster() {
    return world.local("outbound|7070||catalog.e2e.svc.cluster.local");
  }

  private Node node() {
    return Node.newBuilder()
        .setId(world.local("sidecar~10.44.0.7~shop-5d8f7c9b6-x2x9k.e2e~e2e.svc.cluster.local"))
        .setMetadata(
            Struct.newBuilder()
                .putFields("NAMESPACE", string(world.namespace))
                .putFields("ISTIO_VERSION", string("1.27.0"))
                .putFields("SERVICE_ACCOUNT", string("shop"))
                .putFields(
                    "LABELS",
                    Value.newBuilder()
                        .setStructValue(Struct.newBuilder().putFields("app", string("shop")))
                        .build()))
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  private static Value string(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  private static String route(String subset) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: catalog, namespace: e2e}
        spec:
          hosts: [catalog]
          http:
          - route: [{destination: {host: catalog, subset: %s}}]
        """
        .formatted(subset);
  }

  @Test
  void sidecarGetsValidConfig_acksIt_andAChangeSendsOnlyTheTypesItTouches() throws Exception {
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    world.service("catalog");
    world.backend("catalog", "catalog-v1", Map.of("app", "catalog", "version", "v1"), "zone-a");
    world.backend("catalog", "catalog-v2", Map.of("app", "catalog", "version", "v2"), "zone-a");
    world.apply(subsets("catalog", "catalog", "v1", "v2"));
    world.apply(route("v1"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              JsonNode snapshot = IstioJson.json().readTree(world.body("/debug/snapshot"));
              return snapshot.path("healthyEndpoints").asInt() == 2
                  && snapshot.path("config").path("VirtualService").asInt() == 1
                  && snapshot.path("config").path("DestinationRule").asInt() == 1;
            });

    EnvoyValidator validator = new EnvoyValidator();
    try (RawAdsClient ads = new RawAdsClient(world.xdsPort, node())) {
      DiscoveryResponse cds = ads.request(XdsTypes.CLUSTER, List.of());
      ads.ack(cds, List.of());
      List<Cluster> clusters =
          cds.getResourcesList().stream()
              .map(any -> RawAdsClient.unpack(any, Cluster.class))
              .toList();
      assertThat(clusters)
          .extracting(Cluster::getName)
          .contains(
              cluster(),
              world.local("outbound|7070|v1|catalog.e2e.svc.cluster.local"),
              world.local("outbound|7070|v2|catalog.e2e.svc.cluster.local"),
              "PassthroughCluster",
              "BlackHoleCluster");
      List<String> edsNames =
          clusters.stream()
              .filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
              .map(Cluster::getName)
              .toList();
      DiscoveryResponse eds = ads.request(XdsTypes.ENDPOINT, edsNames);
      ads.ack(eds, edsNames);
      DiscoveryResponse lds = ads.request(XdsTypes.LISTENER, List.of());
      ads.ack(lds, List.of());
      List<String> routeNames = List.of("7070");
      DiscoveryResponse rds = ads.request(XdsTypes.ROUTE, routeNames);
      ads.ack(rds, routeNames);

      for (DiscoveryResponse response : List.of(cds, eds, lds, rds)) {
        assertThat(response.getResourcesCount()).as(response.getTypeUrl()).isPositive();
        for (var any : response.getResourcesList()) {
          assertThat(validator.check(RawAdsClient.unpack(any)))
              .as("%s passes Envoy's constraints", any.getTypeUrl())
              .isEmpty();
        }
      }
      assertThat(endpointCount(eds, world.local("outbound|7070|v1|catalog.e2e.svc.cluster.local")))
          .isEqualTo(1);
      assertThat(RawAdsClient.unpack(rds.getResources(0), RouteConfiguration.class).toString())
          .contains(world.local("outbound|7070|v1|catalog.e2e.svc.cluster.local"));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(world.body("/debug/syncz"))
                      .contains(node().getId())
                      .doesNotContain("STALE")
                      .doesNotContain("NACKED"));

      world.apply(route("v2"));
      DiscoveryResponse changed = ads.next(Duration.ofSeconds(30));
      assertThat(changed).as("a push after the VirtualService edit").isNotNull();
      assertThat(changed.getTypeUrl()).isEqualTo(XdsTypes.ROUTE);
      String routes =
          RawAdsClient.unpack(changed.getResources(0), RouteConfiguration.class).toString();
      assertThat(routes)
          .contains(world.local("outbound|7070|v2|catalog.e2e.svc.cluster.local"))
          .doesNotContain(world.local("outbound|7070|v1|catalog.e2e.svc.cluster.local"));
      ads.ack(changed, routeNames);
      assertThat(ads.next(Duration.ofSeconds(1)))
          .as("no CDS, EDS or LDS after a route-only change")
          .isNull();

      world.backend("catalog", "catalog-v1-b", Map.of("app", "catalog", "version", "v1"), "zone-a");
      // The Pod and its EndpointSlice are two API events, so this may take one or two pushes;
      // every one of them must be EDS alone.
      long v1Endpoints = 0;
      while (v1Endpoints < 2) {
        DiscoveryResponse endpoints = ads.next(Duration.ofSeconds(30));
        assertThat(endpoints).as("a push after a pod was added").isNotNull();
        assertThat(endpoints.getTypeUrl()).isEqualTo(XdsTypes.ENDPOINT);
        ads.ack(endpoints, edsNames);
        v1Endpoints =
            endpointCount(endpoints, world.local("outbound|7070|v1|catalog.e2e.svc.cluster.local"));
      }
      assertThat(ads.next(Duration.ofSeconds(1)))
          .as("no CDS, LDS or RDS after an endpoints-only change")
          .isNull();
    }
  }

  private static long endpointCount(DiscoveryResponse eds, String cluster) {
    return eds.getResourcesList().stream()
        .map(any -> RawAdsClient.unpack(any, ClusterLoadAssignment.class))
        .filter(assignment -> assignment.getClusterName().equals(cluster))
        .flatMap(assignment -> assignment.getEndpointsList().stream())
        .mapToLong(locality -> locality.getLbEndpointsCount())
        .sum();
  }
}
