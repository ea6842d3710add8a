package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.meshconfig.MeshConfigParser;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What each mesh config field Bosun honours changes in the Envoy configuration it generates, one
 * field per test, against Istio's defaults; every resource checked is checked against Envoy's
 * constraints too.
 */
class MeshConfigEffectsTest {
  private final EnvoyValidator validator = new EnvoyValidator();
  private final SidecarGenerator generator = new SidecarGenerator("cluster.local", "cluster.local");

  private static final String SHOP =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: cart, namespace: shop}
      spec: {clusterIP: 10.96.0.30, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata:
        name: catalog
        namespace: shop
        annotations: {networking.istio.io/exportTo: "*"}
      spec: {clusterIP: 10.96.0.31, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: cart-1, namespace: shop, labels: {app: cart, security.istio.io/tlsMode: istio}}
      spec: {serviceAccountName: cart, containers: [{name: cart, image: cart}]}
      status: {podIP: 10.0.0.30}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: cart-1, namespace: shop, labels: {kubernetes.io/service-name: cart}}
      addressType: IPv4
      ports: [{name: http, port: 8080}]
      endpoints:
      - addresses: [10.0.0.30]
        targetRef: {kind: Pod, name: cart-1, namespace: shop}
      ---
      """;

  private static ProxyView proxy(String namespace, Locality locality) {
    return new ProxyView(
        "sidecar~10.0.0.9~app-1." + namespace + "~" + namespace + ".svc.cluster.local",
        "sidecar",
        "10.0.0.9",
        namespace,
        Map.of("app", "app"),
        "",
        locality,
        "",
        "",
        List.of());
  }

  private static final ProxyView DEMO = proxy("demo", Locality.UNKNOWN);

  private static MeshConfig mesh(String yaml) throws Exception {
    return MeshConfigParser.parse(yaml).config();
  }

  private Map<String, Cluster> clusters(MeshSnapshot snapshot, ProxyView proxy) throws Exception {
    Map<String, Cluster> clusters = new TreeMap<>();
    for (var entry : generator.clusters(snapshot, proxy).resources().entrySet()) {
      Cluster cluster = (Cluster) entry.getValue();
      assertThat(validator.check(cluster)).as(entry.getKey()).isEmpty();
      clusters.put(entry.getKey(), cluster);
    }
    return clusters;
  }

  private String outboundFallback(MeshSnapshot snapshot) throws Exception {
    Listener listener =
        (Listener) generator.listeners(snapshot, DEMO).resources().get("virtualOutbound");
    assertThat(validator.check(listener)).isEmpty();
    return listener
        .getDefaultFilterChain()
        .getFilters(0)
        .getTypedConfig()
        .unpack(TcpProxy.class)
        .getCluster();
  }

  /** The file access logs of every connection manager and TCP proxy of the sidecar's listeners. */
  private List<io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog> accessLogs(
      MeshSnapshot snapshot) throws Exception {
    List<io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog> logs =
        new java.util.ArrayList<>();
    int filters = 0;
    for (var resource : generator.listeners(snapshot, DEMO).resources().values()) {
      Listener listener = (Listener) resource;
      assertThat(validator.check(listener)).as(listener.getName()).isEmpty();
      List<io.envoyproxy.envoy.config.listener.v3.FilterChain> chains =
          new java.util.ArrayList<>(listener.getFilterChainsList());
      if (listener.hasDefaultFilterChain()) {
        chains.add(listener.getDefaultFilterChain());
      }
      for (var chain : chains) {
        for (var filter : chain.getFiltersList()) {
          List<io.envoyproxy.envoy.config.accesslog.v3.AccessLog> found;
          if (filter.getTypedConfig().is(TcpProxy.class)) {
            found = filter.getTypedConfig().unpack(TcpProxy.class).getAccessLogList();
          } else if (filter
              .getTypedConfig()
              .is(
                  io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                      .HttpConnectionManager.class)) {
            found =
                filter
                    .getTypedConfig()
                    .unpack(
                        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
                            .HttpConnectionManager.class)
                    .getAccessLogList();
          } else {
            continue;
          }
          filters++;
          for (var accessLog : found) {
            assertThat(accessLog.getName()).isEqualTo("envoy.access_loggers.file");
            logs.add(
                accessLog
                    .getTypedConfig()
                    .unpack(
                        io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.class));
          }
        }
      }
    }
    assertThat(filters).as("connection managers and TCP proxies").isGreaterThan(2);
    assertThat(logs.size()).as("none or one per filter").isIn(0, filters);
    return logs;
  }

  @Test
  void accessLogFile_logsEveryConnectionManagerAndTcpProxy_inIstiosDefaultFormat()
      throws Exception {
    assertThat(accessLogs(TestSnapshots.of("shop.yaml", SHOP))).as("not asked for").isEmpty();

    var text = accessLogs(TestSnapshots.of("shop.yaml", SHOP, mesh("accessLogFile: /dev/stdout")));
    assertThat(text).isNotEmpty();
    assertThat(text)
        .allSatisfy(
            log -> {
              assertThat(log.getPath()).isEqualTo("/dev/stdout");
              assertThat(log.getLogFormat().getTextFormatSource().getInlineString())
                  .isEqualTo(dev.bosun.controlplane.xds.envoy.EnvoyAccessLogs.TEXT_FORMAT)
                  .startsWith("[%START_TIME%] \"%REQ(:METHOD)% ")
                  .endsWith(" %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n");
            });

    var custom =
        accessLogs(
            TestSnapshots.of(
                "shop.yaml",
                SHOP,
                mesh(
                    "accessLogFile: /var/log/envoy.log\n"
                        + "accessLogFormat: '%REQ_WITHOUT_QUERY(:PATH)% %RESPONSE_CODE%'")));
    assertThat(custom.get(0).getLogFormat().getTextFormatSource().getInlineString())
        .as("Istio adds the newline")
        .isEqualTo("%REQ_WITHOUT_QUERY(:PATH)% %RESPONSE_CODE%\n");
    assertThat(custom.get(0).getLogFormat().getFormatters(0).getName())
        .isEqualTo("envoy.formatter.req_without_query");
  }

  @Test
  void accessLogFile_alsoLogsConnectionsNoChainTook_onTheCatchAllListeners_unlessDisabled()
      throws Exception {
    MeshSnapshot logged = TestSnapshots.of("shop.yaml", SHOP, mesh("accessLogFile: /dev/stdout"));
    var listeners = generator.listeners(logged, DEMO).resources();
    for (String name : List.of("virtualOutbound", "virtualInbound")) {
      Listener listener = (Listener) listeners.get(name);
      assertThat(listener.getAccessLogList()).as(name).hasSize(1);
      assertThat(listener.getAccessLog(0).getFilter().getResponseFlagFilter().getFlagsList())
          .containsExactly("NR");
      assertThat(validator.check(listener)).isEmpty();
    }
    assertThat(
            listeners.values().stream()
                .map(l -> (Listener) l)
                .filter(l -> !l.getName().startsWith("virtual"))
                .allMatch(l -> l.getAccessLogCount() == 0))
        .as("only the catch-all listeners, as istiod")
        .isTrue();

    MeshSnapshot disabled =
        TestSnapshots.of(
            "shop.yaml", SHOP, mesh("accessLogFile: /dev/stdout\ndisableEnvoyListenerLog: true"));
    Listener outbound =
        (Listener) generator.listeners(disabled, DEMO).resources().get("virtualOutbound");
    assertThat(outbound.getAccessLogList()).isEmpty();
  }

  @Test
  void accessLogEncodingJson_usesIstiosFields_orTheMeshConfigsOwn() throws Exception {
    var json =
        accessLogs(
            TestSnapshots.of(
                "shop.yaml", SHOP, mesh("accessLogFile: /dev/stdout\naccessLogEncoding: JSON")));
    var fields = json.get(0).getLogFormat().getJsonFormat().getFieldsMap();
    assertThat(fields).hasSize(24);
    assertThat(fields.get("response_code").getStringValue()).isEqualTo("%RESPONSE_CODE%");
    assertThat(fields.get("upstream_cluster").getStringValue()).isEqualTo("%UPSTREAM_CLUSTER_RAW%");
    assertThat(json.get(0).getLogFormat().getJsonFormatOptions().getSortProperties()).isFalse();

    var own =
        accessLogs(
            TestSnapshots.of(
                "shop.yaml",
                SHOP,
                mesh(
                    "accessLogFile: /dev/stdout\naccessLogEncoding: JSON\n"
                        + "accessLogFormat: '{\"code\": \"%RESPONSE_CODE%\"}'")));
    assertThat(own.get(0).getLogFormat().getJsonFormat().getFieldsMap()).containsOnlyKeys("code");
  }

  @Test
  void outboundTrafficPolicy_registryOnly_sendsUnknownDestinationsToTheBlackHole()
      throws Exception {
    assertThat(outboundFallback(TestSnapshots.of("shop.yaml", SHOP)))
        .isEqualTo("PassthroughCluster");
    assertThat(
            outboundFallback(
                TestSnapshots.of(
                    "shop.yaml", SHOP, mesh("outboundTrafficPolicy: {mode: REGISTRY_ONLY}"))))
        .isEqualTo("BlackHoleCluster");
  }

  @Test
  void outboundTrafficPolicy_aSidecarsOwnPolicy_winsOverTheMeshs() throws Exception {
    String sidecar =
        """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: demo}
        spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}
        """;
    assertThat(
            outboundFallback(
                TestSnapshots.of(
                    "shop.yaml",
                    SHOP + sidecar,
                    mesh("outboundTrafficPolicy: {mode: REGISTRY_ONLY}"))))
        .isEqualTo("PassthroughCluster");
    String withoutPolicy =
        """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: demo}
        spec: {egress: [{hosts: ["*/*"]}]}
        """;
    assertThat(
            outboundFallback(
                TestSnapshots.of(
                    "shop.yaml",
                    SHOP + withoutPolicy,
                    mesh("outboundTrafficPolicy: {mode: REGISTRY_ONLY}"))))
        .as("a Sidecar without outboundTrafficPolicy follows the mesh")
        .isEqualTo("BlackHoleCluster");
  }

  @Test
  void connectTimeout_isEveryClustersUnlessADestinationRuleSetsOne() throws Exception {
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: catalog, namespace: shop}
        spec:
          host: catalog.shop.svc.cluster.local
          trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250ms}}}
        """;
    Map<String, Cluster> clusters =
        clusters(TestSnapshots.of("shop.yaml", SHOP + rule, mesh("connectTimeout: 1.5s")), DEMO);
    Duration meshWide = Duration.newBuilder().setSeconds(1).setNanos(500_000_000).build();
    assertThat(clusters.get("outbound|8080||cart.shop.svc.cluster.local").getConnectTimeout())
        .isEqualTo(meshWide);
    assertThat(clusters.get("PassthroughCluster").getConnectTimeout()).isEqualTo(meshWide);
    assertThat(clusters.get("outbound|8080||catalog.shop.svc.cluster.local").getConnectTimeout())
        .isEqualTo(Duration.newBuilder().setNanos(250_000_000).build());
    assertThat(
            clusters(TestSnapshots.of("shop.yaml", SHOP), DEMO)
                .get("outbound|8080||cart.shop.svc.cluster.local")
                .getConnectTimeout())
        .as("Istio's default")
        .isEqualTo(Duration.newBuilder().setSeconds(10).build());
  }

  @Test
  void enableAutoMtls_false_leavesClustersWithoutDestinationRuleTlsInPlaintext() throws Exception {
    String rule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: catalog, namespace: shop}
        spec:
          host: catalog.shop.svc.cluster.local
          trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
        """;
    String cart = "outbound|8080||cart.shop.svc.cluster.local";
    String catalog = "outbound|8080||catalog.shop.svc.cluster.local";
    Map<String, Cluster> auto = clusters(TestSnapshots.of("shop.yaml", SHOP + rule), DEMO);
    assertThat(auto.get(cart).getTransportSocketMatchesList()).isNotEmpty();

    Map<String, Cluster> off =
        clusters(TestSnapshots.of("shop.yaml", SHOP + rule, mesh("enableAutoMtls: false")), DEMO);
    assertThat(off.get(cart).getTransportSocketMatchesList()).isEmpty();
    assertThat(off.get(cart).hasTransportSocket()).isFalse();
    assertThat(off.get(catalog).hasTransportSocket())
        .as("a DestinationRule's ISTIO_MUTUAL still applies")
        .isTrue();
  }

  @Test
  void defaultServiceExportTo_hidesServicesThatSetNoExportToFromOtherNamespaces() throws Exception {
    MeshSnapshot snapshot =
        TestSnapshots.of("shop.yaml", SHOP, mesh("defaultServiceExportTo: [\".\"]"));
    Set<String> fromDemo = clusters(snapshot, DEMO).keySet();
    assertThat(fromDemo)
        .doesNotContain("outbound|8080||cart.shop.svc.cluster.local")
        .as("its own exportTo annotation wins")
        .contains("outbound|8080||catalog.shop.svc.cluster.local");
    assertThat(clusters(snapshot, proxy("shop", Locality.UNKNOWN)).keySet())
        .contains("outbound|8080||cart.shop.svc.cluster.local");
  }

  @Test
  void defaultDestinationRuleAndVirtualServiceExportTo_applyToRulesThatSetNone() throws Exception {
    String rules =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: cart, namespace: shop}
        spec:
          host: cart.shop.svc.cluster.local
          trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250ms}}}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: cart, namespace: shop}
        spec:
          hosts: [cart.shop.svc.cluster.local]
          http: [{route: [{destination: {host: cart.shop.svc.cluster.local}}], timeout: 3s}]
        """;
    MeshSnapshot shared = TestSnapshots.of("shop.yaml", SHOP + rules);
    MeshSnapshot local =
        TestSnapshots.of(
            "shop.yaml",
            SHOP + rules,
            mesh(
                "defaultDestinationRuleExportTo: [\".\"]\n"
                    + "defaultVirtualServiceExportTo: [\".\"]\n"));
    String cart = "outbound|8080||cart.shop.svc.cluster.local";
    assertThat(clusters(shared, DEMO).get(cart).getConnectTimeout().getNanos())
        .isEqualTo(250_000_000);
    assertThat(clusters(local, DEMO).get(cart).getConnectTimeout().getSeconds())
        .as("the rule is not exported to demo: the mesh default applies")
        .isEqualTo(10);
    assertThat(
            clusters(local, proxy("shop", Locality.UNKNOWN))
                .get(cart)
                .getConnectTimeout()
                .getNanos())
        .isEqualTo(250_000_000);
    assertThat(shared.config().virtualService("cart.shop.svc.cluster.local", "demo")).isPresent();
    assertThat(local.config().virtualService("cart.shop.svc.cluster.local", "demo")).isEmpty();
    assertThat(local.config().virtualService("cart.shop.svc.cluster.local", "shop")).isPresent();
  }

  @Test
  void localityLbSetting_isTheDefaultOfDestinationRulesWithoutOne() throws Exception {
    String geo =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: maps, namespace: geo}
        spec: {clusterIP: 10.96.9.11, ports: [{name: http, port: 80}]}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: a1, labels: {topology.kubernetes.io/region: us-east, topology.kubernetes.io/zone: us-east-1a}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: w1, labels: {topology.kubernetes.io/region: us-west, topology.kubernetes.io/zone: us-west-1a}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: maps-1, namespace: geo, labels: {kubernetes.io/service-name: maps}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:
        - {addresses: [10.7.0.1], conditions: {ready: true}, nodeName: a1}
        - {addresses: [10.7.0.3], conditions: {ready: true}, nodeName: w1}
        ---
        """;
    String ownRule =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: maps, namespace: geo}
        spec:
          host: maps
          trafficPolicy:
            loadBalancer:
              localityLbSetting: {enabled: false}
        """;
    MeshConfig meshWide =
        mesh(
            """
            localityLbSetting:
              distribute:
              - from: us-east/us-east-1a/*
                to: {"us-east/us-east-1a/*": 80, "us-west/*": 20}
            """);
    ProxyView east = proxy("geo", new Locality("us-east", "us-east-1a", ""));
    String maps = "outbound|80||maps.geo.svc.cluster.local";

    assertThat(weights(TestSnapshots.of("geo.yaml", geo, meshWide), east, maps))
        .containsExactlyInAnyOrderEntriesOf(Map.of("us-east", 80, "us-west", 20));
    assertThat(weights(TestSnapshots.of("geo.yaml", geo), east, maps))
        .as("Istio's default: enabled, no distribution")
        .containsExactlyInAnyOrderEntriesOf(Map.of("us-east", 1, "us-west", 1));
    assertThat(weights(TestSnapshots.of("geo.yaml", geo + ownRule, meshWide), east, maps))
        .as("the DestinationRule's own setting wins")
        .containsExactlyInAnyOrderEntriesOf(Map.of("us-east", 1, "us-west", 1));
  }

  /** Each locality's weight in the cluster's assignment, by region. */
  private Map<String, Integer> weights(MeshSnapshot snapshot, ProxyView proxy, String cluster) {
    ClusterLoadAssignment assignment =
        (ClusterLoadAssignment)
            generator.endpoints(snapshot, proxy, Set.of(cluster)).resources().get(cluster);
    assertThat(validator.check(assignment)).isEmpty();
    Map<String, Integer> weights = new TreeMap<>();
    for (LocalityLbEndpoints endpoints : assignment.getEndpointsList()) {
      weights.merge(
          endpoints.getLocality().getRegion(),
          endpoints.getLoadBalancingWeight().getValue(),
          Integer::sum);
    }
    return weights;
  }
}
