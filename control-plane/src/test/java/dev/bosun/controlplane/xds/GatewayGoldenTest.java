package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.gateway.GatewayGenerator;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.EnvoyJson;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files for Envoy gateway (router) configuration, requested the way Envoy does: every
 * cluster and listener, the endpoints of the EDS clusters and the route configurations the
 * listeners name. Each case under {@code src/test/resources/gateway-golden/} holds {@code
 * input.yaml}, {@code node.json} and the expected {@code cds.json}, {@code eds.json}, {@code
 * lds.json}, {@code rds.json} and {@code warnings.txt} (what was left out, and why). Every resource
 * must pass Envoy's own field constraints. {@code -Dgolden.update=true} rewrites the expected
 * files.
 */
class GatewayGoldenTest {
  private static final Path CASES = Path.of("src/test/resources/gateway-golden");
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
  void gatewayConfig_matchesGolden_andPassesEnvoyConstraints(String name) throws Exception {
    Path dir = CASES.resolve(name);
    MeshSnapshot snapshot =
        TestSnapshots.of(
            dir.resolve("input.yaml").toString(), Files.readString(dir.resolve("input.yaml")));
    Node.Builder node = Node.newBuilder();
    JsonFormat.parser().merge(Files.readString(dir.resolve("node.json")), node);
    ProxyView proxy = ProxyView.of(node.build());
    Map<String, TypeGenerator> types =
        new GatewayGenerator("cluster.local", "cluster.local")
            .types().stream().collect(Collectors.toMap(TypeGenerator::typeUrl, t -> t));
    Set<String> warnings = new TreeSet<>();

    Generated clusters = types.get(XdsTypes.CLUSTER).generate(snapshot, proxy, Set.of());
    Set<String> edsNames = new TreeSet<>();
    clusters
        .resources()
        .forEach(
            (n, c) -> {
              if (((Cluster) c).getType() == Cluster.DiscoveryType.EDS) {
                edsNames.add(n);
              }
            });
    Generated listeners = types.get(XdsTypes.LISTENER).generate(snapshot, proxy, Set.of());
    Set<String> routeNames = new TreeSet<>();
    for (Message listener : listeners.resources().values()) {
      for (var chain : ((Listener) listener).getFilterChainsList()) {
        for (var filter : chain.getFiltersList()) {
          if (filter.getTypedConfig().is(HttpConnectionManager.class)) {
            routeNames.add(
                filter
                    .getTypedConfig()
                    .unpack(HttpConnectionManager.class)
                    .getRds()
                    .getRouteConfigName());
          }
        }
      }
    }
    Generated endpoints = types.get(XdsTypes.ENDPOINT).generate(snapshot, proxy, edsNames);
    Generated routes = types.get(XdsTypes.ROUTE).generate(snapshot, proxy, routeNames);
    Map<String, Generated> byType =
        Map.of("cds", clusters, "eds", endpoints, "lds", listeners, "rds", routes);
    for (Map.Entry<String, Generated> type : byType.entrySet()) {
      warnings.addAll(type.getValue().warnings());
      for (Map.Entry<String, Message> resource : type.getValue().resources().entrySet()) {
        assertThat(validator.check(resource.getValue()))
            .as("%s %s %s violates Envoy's constraints", name, type.getKey(), resource.getKey())
            .isEmpty();
      }
      compare(dir.resolve(type.getKey() + ".json"), render(type.getValue().resources()));
    }
    compare(dir.resolve("warnings.txt"), String.join("\n", warnings) + "\n");
  }

  private static void compare(Path golden, String actual) throws IOException {
    if (UPDATE) {
      Files.writeString(golden, actual);
    }
    assertThat(Files.exists(golden))
        .as("%s is missing (run with -Dgolden.update=true)", golden)
        .isTrue();
    String expected = Files.readString(golden);
    if (golden.toString().endsWith(".json")) {
      assertThat(IstioJson.json().readTree(actual))
          .as("%s differs (regenerate with -Dgolden.update=true and review the diff)", golden)
          .isEqualTo(IstioJson.json().readTree(expected));
    } else {
      assertThat(actual).as("%s differs", golden).isEqualTo(expected);
    }
  }

  private static String render(Map<String, Message> resources) {
    List<String> printed = new ArrayList<>();
    for (Message message : resources.values()) {
      printed.add(EnvoyJson.print(message).indent(2).stripTrailing());
    }
    return "[\n" + String.join(",\n", printed) + (printed.isEmpty() ? "" : "\n") + "]\n";
  }
}
