package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bosun proxy-config} against {@code bosun local} on the bookinfo example, with a raw ADS
 * client as the reviews sidecar: each table has istioctl's columns and the rows of what the sidecar
 * was sent.
 */
class ProxyConfigCommandTest {
  private static final String NODE_ID =
      "sidecar~10.44.0.12~reviews-v1-6b7c5d4f8-a1b2c.bookinfo~bookinfo.svc.cluster.local";

  @TempDir Path dir;

  private static List<List<String>> table(String output) {
    return output.lines().map(line -> List.of(line.split(" {3,}"))).toList();
  }

  @Test
  void clusterListenerRouteEndpoint_tablesOfWhatTheSidecarWasSent() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    Node node = TestNodes.sidecar(NODE_ID, "bookinfo", Map.of("app", "reviews"));
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir);
        RawAdsClient ads = new RawAdsClient(runtime.xds().port(), node)) {
      DiscoveryResponse cds = ads.request(XdsTypes.CLUSTER, List.of());
      ads.ack(cds, List.of());
      List<String> eds =
          cds.getResourcesList().stream()
              .map(any -> RawAdsClient.unpack(any, Cluster.class))
              .filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
              .map(Cluster::getName)
              .toList();
      ads.ack(ads.request(XdsTypes.ENDPOINT, eds), eds);
      ads.ack(ads.request(XdsTypes.LISTENER, List.of()), List.of());
      ads.ack(ads.request(XdsTypes.ROUTE, List.of("9080")), List.of("9080"));
      String bosun = "http://127.0.0.1:" + runtime.monitoring().address().getPort();

      List<List<String>> clusters =
          table(Cli.run("proxy-config", "cluster", NODE_ID, "--bosun", bosun).out());
      assertThat(clusters.get(0))
          .containsExactly(
              "SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE");
      assertThat(clusters)
          .contains(
              List.of("ratings.bookinfo.svc.cluster.local", "9090", "-", "outbound", "EDS", "-"),
              List.of("BlackHoleCluster", "-", "-", "-", "STATIC", "-"),
              List.of("reviews.bookinfo.svc.cluster.local", "9080", "v1", "outbound", "EDS", "-"))
          .hasSize(cds.getResourcesCount() + 1);

      List<List<String>> listeners =
          table(Cli.run("proxy-config", "listener", NODE_ID, "--bosun", bosun).out());
      assertThat(listeners.get(0)).containsExactly("ADDRESSES", "PORT", "MATCH", "DESTINATION");
      assertThat(listeners)
          .anySatisfy(row -> assertThat(row).startsWith("0.0.0.0", "15006"))
          .anySatisfy(row -> assertThat(row).last().asString().startsWith("Route: 9080"));

      List<List<String>> routes =
          table(Cli.run("proxy-config", "route", NODE_ID, "--bosun", bosun).out());
      assertThat(routes.get(0))
          .containsExactly("NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE");
      assertThat(routes)
          .anySatisfy(
              row ->
                  assertThat(row)
                      .containsExactly(
                          "9080",
                          "details.bookinfo.svc.cluster.local:9080",
                          "details.bookinfo.svc.cluster.local +7 more",
                          "*",
                          "-"))
          .anySatisfy(row -> assertThat(row).endsWith("/productpage", "-"));

      List<List<String>> endpoints =
          table(Cli.run("proxy-config", "endpoint", NODE_ID, "--bosun", bosun).out());
      assertThat(endpoints.get(0))
          .containsExactly("ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER");
      assertThat(endpoints)
          .anySatisfy(
              row ->
                  assertThat(row)
                      .containsExactly(
                          "10.44.1.15:9090",
                          "HEALTHY",
                          "-",
                          "outbound|9090||ratings.bookinfo.svc.cluster.local"));

      Cli.Result json = Cli.run("proxy-config", "cluster", NODE_ID, "--bosun", bosun, "-o", "json");
      assertThat(json.out())
          .contains("\"name\" : \"outbound|9090||ratings.bookinfo.svc.cluster.local\"");

      Cli.Result missing =
          Cli.run(
              "proxy-config",
              "cluster",
              "sidecar~1.1.1.1~gone.x~x.svc.cluster.local",
              "--bosun",
              bosun);
      assertThat(missing.code()).isEqualTo(1);
      assertThat(missing.err()).contains("is not connected to any of [" + bosun + "]");
      assertThat(Cli.run("proxy-config", "clusters", NODE_ID).code()).isEqualTo(2);
    }
  }
}
