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
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A raw ADS client presenting Istio sidecar node metadata, as the Istio agent does: it gets CDS,
 * EDS, LDS and RDS that pass Envoy's constraints, ACKs them, and when only a VirtualService changes
 * it receives RDS alone.
 */
class SidecarPushTest {
  @TempDir Path dir;

  private static final Node NODE =
      Node.newBuilder()
          .setId(
              "sidecar~10.44.0.12~reviews-v1-6b7c5d4f8-a1b2c.bookinfo~bookinfo.svc.cluster.local")
          .setMetadata(
              Struct.newBuilder()
                  .putFields("NAMESPACE", Value.newBuilder().setStringValue("bookinfo").build())
                  .putFields("ISTIO_VERSION", Value.newBuilder().setStringValue("1.27.0").build()))
          .build();

  @Test
  void virtualServiceChange_resendsOnlyRoutes() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir)) {
      EnvoyValidator validator = new EnvoyValidator();
      try (RawAdsClient ads = new RawAdsClient(runtime.xds().port(), NODE)) {
        DiscoveryResponse cds = ads.request(XdsTypes.CLUSTER, List.of());
        ads.ack(cds, List.of());
        assertThat(cds.getResourcesCount()).isGreaterThan(5);
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
        List<String> routeNames = List.of("9080", "9090");
        DiscoveryResponse rds = ads.request(XdsTypes.ROUTE, routeNames);
        for (DiscoveryResponse response : List.of(cds, eds, lds, rds)) {
          for (var any : response.getResourcesList()) {
            assertThat(validator.check(RawAdsClient.unpack(any))).as(any.getTypeUrl()).isEmpty();
          }
        }
        ads.ack(rds, routeNames);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !runtime.xds().syncStatus().toString().contains("STALE"));

        String traffic = Files.readString(dir.resolve("traffic.yaml"));
        Files.writeString(
            dir.resolve("traffic.yaml"),
            traffic.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"));
        DiscoveryResponse changed = ads.next(Duration.ofSeconds(30));
        assertThat(changed).isNotNull();
        assertThat(changed.getTypeUrl()).isEqualTo(XdsTypes.ROUTE);
        RouteConfiguration routes =
            RawAdsClient.unpack(changed.getResources(0), RouteConfiguration.class);
        assertThat(routes.toString()).contains("value: 50");
        ads.ack(changed, routeNames);
        assertThat(ads.next(Duration.ofSeconds(1)))
            .as("no CDS, EDS or LDS: they did not change")
            .isNull();
      }
    }
  }
}
