package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bosun proxy-status} against a running {@code bosun local} with raw ADS clients: one that
 * ACKs, one that leaves RDS unanswered, one that NACKs LDS, plus a replica that is down.
 */
class ProxyStatusCommandTest {
  @TempDir Path dir;

  private static Node node(String id) {
    return TestNodes.sidecar(id, "bookinfo", java.util.Map.of());
  }

  @Test
  void table_showsEachProxysStatePerType_andTheNackError() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir);
        RawAdsClient synced =
            new RawAdsClient(
                runtime.xds().port(),
                node("sidecar~10.44.0.10~productpage-v1.bookinfo~bookinfo.svc.cluster.local"));
        RawAdsClient stale =
            new RawAdsClient(
                runtime.xds().port(),
                node("sidecar~10.44.0.12~reviews-v1.bookinfo~bookinfo.svc.cluster.local"))) {
      synced.ack(synced.request(XdsTypes.CLUSTER, List.of()), List.of());
      synced.ack(synced.request(XdsTypes.LISTENER, List.of()), List.of());
      stale.ack(stale.request(XdsTypes.CLUSTER, List.of()), List.of());
      DiscoveryResponse lds = stale.request(XdsTypes.LISTENER, List.of());
      stale.nack(lds, List.of(), "listener virtualInbound: bad filter chain");
      stale.request(XdsTypes.ROUTE, List.of("9080"));
      String bosun = "http://127.0.0.1:" + runtime.monitoring().address().getPort();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Cli.run("proxy-status", "--bosun", bosun).out().contains("NACKED"));

      Cli.Result result = Cli.run("proxy-status", "--bosun", bosun);
      String replica = bosun.substring("http://".length());
      assertThat(result.code()).isEqualTo(0);
      List<List<String>> table =
          result.out().lines().map(line -> List.of(line.split(" {3,}"))).toList();
      assertThat(table)
          .containsExactly(
              List.of("NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "BOSUN", "VERSION"),
              List.of(
                  "productpage-v1.bookinfo",
                  "Kubernetes",
                  "SYNCED",
                  "SYNCED",
                  "IGNORED",
                  "IGNORED",
                  "IGNORED",
                  replica,
                  "1.27.0"),
              List.of(
                  "reviews-v1.bookinfo",
                  "Kubernetes",
                  "SYNCED",
                  "NACKED",
                  "IGNORED",
                  "STALE",
                  "IGNORED",
                  replica,
                  "1.27.0"),
              List.of("NACK reviews-v1.bookinfo LDS: listener virtualInbound: bad filter chain"));
      List<String> lines = result.out().lines().toList();
      assertThat(lines.get(1).indexOf("SYNCED"))
          .as("columns aligned")
          .isEqualTo(lines.get(0).indexOf("CDS"));
      assertThat(lines.get(2).indexOf("STALE")).isEqualTo(lines.get(0).indexOf("RDS"));

      Cli.Result one =
          Cli.run("proxy-status", "reviews-v1.bookinfo", "--bosun", bosun, "-o", "json");
      assertThat(one.code()).isEqualTo(0);
      assertThat(one.out()).contains("\"nodeId\" : \"sidecar~10.44.0.12~reviews-v1.bookinfo");
      assertThat(one.out()).doesNotContain("productpage");

      int down;
      try (ServerSocket free = new ServerSocket(0)) {
        down = free.getLocalPort();
      }
      Cli.Result partial =
          Cli.run(
              "proxy-status", "--bosun", bosun + ",http://127.0.0.1:" + down, "--timeout", "2s");
      assertThat(partial.code()).as("a replica did not answer").isEqualTo(1);
      assertThat(partial.out()).contains("productpage-v1.bookinfo");
      assertThat(partial.err()).startsWith("bosun proxy-status: http://127.0.0.1:" + down + ": ");

      Cli.Result missing = Cli.run("proxy-status", "gone.bookinfo", "--bosun", bosun);
      assertThat(missing.code()).isEqualTo(1);
      assertThat(missing.err())
          .contains("gone.bookinfo is not connected to any of [" + bosun + "]");
    }
  }
}
