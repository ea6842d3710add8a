package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.EnvoyJson;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files for Envoy sidecar configuration. Each case under {@code src/test/resources/golden/}
 * holds {@code input.yaml} (Kubernetes and Istio objects), {@code node.json} (the proxy's node as
 * the Istio agent sends it) and the expected {@code cds.json}, {@code eds.json}, {@code lds.json},
 * {@code rds.json}. Every generated resource must also pass Envoy's own field constraints. Run with
 * {@code -Dgolden.update=true} to rewrite the expected files after a deliberate change, then review
 * the diff like code.
 */
class SidecarGoldenTest {
  private static final Path CASES = Path.of("src/test/resources/golden");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");
  private final EnvoyValidator validator = new EnvoyValidator();

  static Stream<String> cases() throws IOException {
    try (Stream<Path> dirs = Files.list(CASES)) {
      return dirs
          .filter(Files::isDirectory)
          .map(d -> d.getFileName().toString())
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void sidecarConfig_matchesGolden_andPassesEnvoyConstraints(String name) throws Exception {
    Path dir = CASES.resolve(name);
    MeshSnapshot snapshot = snapshot(dir.resolve("input.yaml"));
    Node.Builder node = Node.newBuilder();
    JsonFormat.parser().merge(Files.readString(dir.resolve("node.json")), node);
    ProxyView proxy = ProxyView.of(node.build());
    SidecarGenerator generator = new SidecarGenerator("cluster.local");

    Map<String, Message> clusters = generator.clusters(snapshot, proxy).resources();
    Set<String> edsClusters = new TreeSet<>();
    clusters.forEach(
        (n, c) -> {
          if (((Cluster) c).getType() == Cluster.DiscoveryType.EDS) {
            edsClusters.add(n);
          }
        });
    Map<String, Message> listeners = generator.listeners(snapshot, proxy).resources();
    Set<String> routeNames = new TreeSet<>();
    for (Message listener : listeners.values()) {
      for (var chain : ((Listener) listener).getFilterChainsList()) {
        for (var filter : chain.getFiltersList()) {
          if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
            HttpConnectionManager manager =
                filter.getTypedConfig().unpack(HttpConnectionManager.class);
            if (manager.hasRds()) {
              routeNames.add(manager.getRds().getRouteConfigName());
            }
          }
        }
      }
    }
    Map<String, Map<String, Message>> byType =
        Map.of(
            "cds",
            clusters,
            "eds",
            generator.endpoints(snapshot, proxy, edsClusters).resources(),
            "lds",
            listeners,
            "rds",
            generator.routes(snapshot, proxy, routeNames).resources());
    for (Map.Entry<String, Map<String, Message>> type : byType.entrySet()) {
      for (Map.Entry<String, Message> resource : type.getValue().entrySet()) {
        assertThat(validator.check(resource.getValue()))
            .as("%s %s %s violates Envoy's constraints", name, type.getKey(), resource.getKey())
            .isEmpty();
      }
      String actual = render(type.getValue());
      Path golden = dir.resolve(type.getKey() + ".json");
      if (UPDATE) {
        Files.writeString(golden, actual);
      }
      assertThat(Files.exists(golden))
          .as("%s is missing (run with -Dgolden.update=true)", golden)
          .isTrue();
      JsonNode expected = IstioJson.json().readTree(Files.readString(golden));
      assertThat(IstioJson.json().readTree(actual))
          .as(
              "%s differs from %s (regenerate with -Dgolden.update=true and review the diff)",
              type.getKey(), golden)
          .isEqualTo(expected);
    }
  }

  private static String render(Map<String, Message> resources) {
    StringBuilder json = new StringBuilder("[\n");
    int i = 0;
    for (Message message : resources.values()) {
      json.append(EnvoyJson.print(message).indent(2).stripTrailing());
      json.append(++i < resources.size() ? ",\n" : "\n");
    }
    return json.append("]\n").toString();
  }

  private static MeshSnapshot snapshot(Path input) throws IOException {
    return TestSnapshots.of(input.toString(), Files.readString(input));
  }
}
