package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.CarriedInbound;
import dev.bosun.controlplane.xds.scope.CarriedRoutes;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Which types of which proxies a change concerns. Soundness is checked by generating every type of
 * every proxy before and after each edit: wherever the resources differ, the change must concern
 * that type of that proxy. Targeting is checked by the types and proxies it must leave alone.
 */
class XdsPushesTest {
  private static final String MESH =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: echo, namespace: demo}
      spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: shop}
      spec: {clusterIP: 10.96.0.11, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: data}
      spec: {clusterIP: 10.96.0.12, ports: [{name: tcp, port: 5432}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: local, namespace: scoped}
      spec: {clusterIP: 10.96.0.13, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: echo-1, namespace: demo, labels: {kubernetes.io/service-name: echo}}
      addressType: IPv4
      ports: [{name: http, port: 8080}]
      endpoints:
      - addresses: [10.1.0.1]
        conditions: {ready: true}
        targetRef: {kind: Pod, namespace: demo, name: echo-v1}
      - addresses: [10.1.0.2]
        conditions: {ready: true}
        targetRef: {kind: Pod, namespace: demo, name: echo-v2}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{name: http, port: 8080}]
      endpoints:
      - addresses: [10.2.0.1]
        conditions: {ready: true}
        targetRef: {kind: Pod, namespace: shop, name: web-0}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: echo-v1, namespace: demo, labels: {app: echo, version: v1}}
      spec: {serviceAccountName: echo}
      status: {podIP: 10.1.0.1}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: echo-v2, namespace: demo, labels: {app: echo, version: v2}}
      spec: {serviceAccountName: echo}
      status: {podIP: 10.1.0.2}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: web-0, namespace: shop, labels: {app: web}}
      spec: {serviceAccountName: web}
      status: {podIP: 10.2.0.1}
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: scoped}
      spec:
        egress: [{hosts: ["./*"]}]
      """;

  private static final String ECHO_RULE =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: echo, namespace: demo}
      spec:
        host: echo
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      """;

  private static final String ECHO_SPLIT =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: echo, namespace: demo}
      spec:
        hosts: [echo]
        http:
        - route:
          - {destination: {host: echo, subset: v1}, weight: 90}
          - {destination: {host: echo, subset: v2}, weight: 10}
      """;

  /** web's routes send some traffic to echo: echo's rule reaches web's routes. */
  private static final String WEB_TO_ECHO =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: web, namespace: shop}
      spec:
        hosts: [web]
        http:
        - match: [{uri: {prefix: /echo}}]
          route: [{destination: {host: echo.demo.svc.cluster.local}}]
        - route: [{destination: {host: web}}]
      """;

  private static final String BASE = MESH + ECHO_RULE + ECHO_SPLIT + WEB_TO_ECHO;

  private static final ProxyView IN_DEMO = sidecar("10.1.0.1", "echo-v1", "demo", "echo");
  private static final ProxyView IN_SHOP = sidecar("10.2.0.1", "web-0", "shop", "web");
  private static final ProxyView IN_SCOPED = sidecar("10.4.0.1", "local-0", "scoped", "local");
  private static final ProxyView GRPC = proxyless("10.5.0.1", "demo");
  private static final List<ProxyView> PROXIES = List.of(IN_DEMO, IN_SHOP, IN_SCOPED, GRPC);

  private static final List<String> TYPES =
      List.of(XdsTypes.CLUSTER, XdsTypes.ENDPOINT, XdsTypes.LISTENER, XdsTypes.ROUTE);

  private final MeshXdsGenerator generators =
      new MeshXdsGenerator(() -> null, "cluster.local", "cluster.local");

  @Test
  void virtualServiceEdit_concernsOnlyListenersAndRoutesOfProxiesThatSeeItsHost() {
    Concerned concerned =
        edit(
            key(IstioKind.VIRTUAL_SERVICE, "demo", "echo"),
            BASE,
            BASE.replace("weight: 90", "weight: 80").replace("weight: 10", "weight: 20"));

    assertThat(concerned.types(IN_DEMO)).containsExactly(XdsTypes.LISTENER, XdsTypes.ROUTE);
    assertThat(concerned.types(IN_SHOP)).containsExactly(XdsTypes.LISTENER, XdsTypes.ROUTE);
    assertThat(concerned.types(IN_SCOPED)).as("its Sidecar hides echo").isEmpty();
    assertThat(concerned.types(GRPC)).containsExactly(XdsTypes.ROUTE);
  }

  @Test
  void destinationRuleEdit_concernsClustersEndpointsAndRoutes_notListeners() {
    Concerned concerned =
        edit(
            key(IstioKind.DESTINATION_RULE, "demo", "echo"),
            BASE,
            BASE.replace(
                "  host: echo\n  subsets:",
                "  host: echo\n  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName:"
                    + " x-user}}}\n  subsets:"));

    assertThat(concerned.types(IN_DEMO))
        .containsExactly(XdsTypes.CLUSTER, XdsTypes.ENDPOINT, XdsTypes.ROUTE);
    assertThat(concerned.types(IN_SCOPED)).as("echo is out of its scope").isEmpty();
  }

  @Test
  void sidecarEdit_concernsOnlyItsNamespace() {
    Concerned concerned =
        edit(
            key(IstioKind.SIDECAR, "scoped", "default"),
            BASE,
            BASE.replace(
                "egress: [{hosts: [\"./*\"]}]", "egress: [{hosts: [\"./*\", \"demo/*\"]}]"));

    assertThat(concerned.types(IN_SCOPED))
        .as("endpoints of a cluster do not depend on who sees it")
        .containsExactly(XdsTypes.CLUSTER, XdsTypes.LISTENER, XdsTypes.ROUTE);
    assertThat(concerned.types(IN_DEMO)).isEmpty();
    assertThat(concerned.types(IN_SHOP)).isEmpty();
  }

  @Test
  void authorizationPolicy_concernsOnlyListenersOfItsNamespace_orEveryoneFromTheRoot() {
    String policy =
        """
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: NS}
        spec: {}
        """;
    Concerned inShop =
        edit(
            key(IstioKind.AUTHORIZATION_POLICY, "shop", "deny-all"),
            BASE,
            BASE + policy.replace("NS", "shop"));
    Concerned meshWide =
        edit(
            key(IstioKind.AUTHORIZATION_POLICY, "istio-system", "deny-all"),
            BASE,
            BASE + policy.replace("NS", "istio-system"));

    assertThat(inShop.types(IN_SHOP)).containsExactly(XdsTypes.LISTENER);
    assertThat(inShop.types(IN_DEMO)).isEmpty();
    assertThat(meshWide.types(IN_DEMO)).containsExactly(XdsTypes.LISTENER);
    assertThat(meshWide.types(IN_SCOPED)).containsExactly(XdsTypes.LISTENER);
  }

  @Test
  void peerAuthentication_concernsInboundListenersOfItsNamespace_andEveryonesClusters() {
    Concerned concerned =
        edit(
            key(IstioKind.PEER_AUTHENTICATION, "demo", "strict"),
            BASE,
            BASE
                + """
                ---
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: strict, namespace: demo}
                spec: {mtls: {mode: STRICT}}
                """);

    assertThat(concerned.types(IN_DEMO))
        .containsExactly(XdsTypes.CLUSTER, XdsTypes.ENDPOINT, XdsTypes.LISTENER);
    assertThat(concerned.types(IN_SHOP)).containsExactly(XdsTypes.CLUSTER, XdsTypes.ENDPOINT);
  }

  @Test
  void deletingAVirtualService_concernsThoseThatSawItsHost() {
    Concerned concerned =
        edit(key(IstioKind.VIRTUAL_SERVICE, "demo", "echo"), BASE, MESH + ECHO_RULE + WEB_TO_ECHO);

    assertThat(concerned.types(IN_DEMO)).containsExactly(XdsTypes.LISTENER, XdsTypes.ROUTE);
    assertThat(concerned.types(IN_SCOPED)).isEmpty();
  }

  @Test
  void serviceChanges_andUntracedKinds_concernEverything() {
    MeshSnapshot before = TestSnapshots.of("before", BASE);
    MeshSnapshot after = TestSnapshots.of("after", BASE);
    MeshChange services =
        MeshChange.of(
            PushRequest.services(Set.of("echo.demo.svc.cluster.local"), "service", 1),
            before,
            after);
    MeshChange serviceEntry =
        MeshChange.of(
            PushRequest.config(key(IstioKind.SERVICE_ENTRY, "demo", "ext"), "se", 1),
            before,
            after);
    MeshChange first = MeshChange.of(PushRequest.everything("initial sync", 1), null, after);

    for (MeshChange change : List.of(services, serviceEntry, first)) {
      for (ProxyView proxy : PROXIES) {
        for (String type : TYPES) {
          assertThat(concerns(change, proxy, type)).as(proxy.id() + " " + type).isTrue();
        }
      }
    }
  }

  @Test
  void virtualServiceEdit_rebuildsOnlyTheVirtualHostsOfItsHost() {
    MeshSnapshot old = TestSnapshots.of("before", BASE);
    MeshSnapshot current =
        TestSnapshots.of(
            "after", BASE.replace("weight: 90", "weight: 80").replace("weight: 10", "weight: 20"));
    RouteConfiguration before = routes(old, IN_SHOP);
    CarriedRoutes.carryOver(
        old,
        current,
        MeshChange.of(
            PushRequest.config(key(IstioKind.VIRTUAL_SERVICE, "demo", "echo"), "edit", 1),
            old,
            current));
    RouteConfiguration after = routes(current, IN_SHOP);

    assertThat(virtualHost(after, "web.shop.svc.cluster.local:8080"))
        .as("web's routes read nothing the edit changed: carried, not rebuilt")
        .isSameAs(virtualHost(before, "web.shop.svc.cluster.local:8080"));
    assertThat(virtualHost(after, "echo.demo.svc.cluster.local:8080").toString())
        .contains("value: 80")
        .doesNotContain("value: 90");
    assertThat(CarriedRoutes.size(current)).isEqualTo(CarriedRoutes.size(old));
  }

  @Test
  void serviceChange_carriesNoRoutePieces() {
    MeshSnapshot old = TestSnapshots.of("before", BASE);
    MeshSnapshot current = TestSnapshots.of("after", BASE);
    routes(old, IN_SHOP);
    CarriedRoutes.carryOver(
        old,
        current,
        MeshChange.of(
            PushRequest.services(Set.of("web.shop.svc.cluster.local"), "service", 1),
            old,
            current));

    assertThat(CarriedRoutes.size(old)).isPositive();
    assertThat(CarriedRoutes.size(current)).isZero();
  }

  @Test
  void virtualServiceEdit_carriesEachSidecarsInboundListener_otherEditsDoNot() {
    MeshSnapshot old = TestSnapshots.of("before", BASE);
    MeshSnapshot current = TestSnapshots.of("after", BASE.replace("weight: 90", "weight: 80"));
    Message before = inbound(old, IN_SHOP);
    CarriedInbound.carryOver(
        old,
        current,
        MeshChange.of(
            PushRequest.config(key(IstioKind.VIRTUAL_SERVICE, "demo", "echo"), "edit", 1),
            old,
            current));
    assertThat(inbound(current, IN_SHOP))
        .as("the inbound listener reads no VirtualService: carried, not rebuilt")
        .isSameAs(before);

    MeshSnapshot policed = TestSnapshots.of("policed", BASE);
    CarriedInbound.carryOver(
        current,
        policed,
        MeshChange.of(
            PushRequest.config(key(IstioKind.PEER_AUTHENTICATION, "shop", "strict"), "edit", 1),
            current,
            policed));
    assertThat(CarriedInbound.size(policed)).isZero();
    assertThat(inbound(policed, IN_SHOP)).isNotSameAs(before).isEqualTo(before);
  }

  @Test
  void aRouteEnvoyWouldRefuse_isLeftOutAlone_theRouteConfigurationStillGoesOut() {
    // Bosun's validator takes this rewrite; Envoy's constraints (a header-value-safe prefix
    // rewrite) do not.
    MeshSnapshot snapshot =
        TestSnapshots.of(
            "bad route",
            BASE.replace(
                "route: [{destination: {host: echo.demo.svc.cluster.local}}]",
                "rewrite: {uri: \"/new\\nline\"}\n"
                    + "    route: [{destination: {host: echo.demo.svc.cluster.local}}]"));
    var generated = routesWithWarnings(snapshot, IN_SHOP);
    RouteConfiguration config = (RouteConfiguration) generated.resources().get("8080");

    assertThat(new dev.bosun.xds.EnvoyValidator().check(config)).isEmpty();
    assertThat(virtualHost(config, "web.shop.svc.cluster.local:8080").getRoutesList())
        .as("web's second route still applies; the refused one is gone")
        .hasSize(1)
        .allSatisfy(route -> assertThat(route.getMatch().toString()).doesNotContain("/echo"));
    assertThat(virtualHost(config, "echo.demo.svc.cluster.local:8080").getRoutesCount())
        .as("another team's routes are untouched")
        .isEqualTo(1);
    assertThat(generated.warnings())
        .anySatisfy(
            warning ->
                assertThat(warning)
                    .startsWith(
                        "VirtualService shop/web spec.http[0]: left out: Envoy would refuse")
                    .contains("prefix_rewrite"));
  }

  @Test
  void aRouteToAnUnknownSubsetOrHost_isSentWithAnAnalyzerWarning() {
    MeshSnapshot snapshot =
        TestSnapshots.of(
            "dangling",
            BASE.replace(
                    "route: [{destination: {host: echo.demo.svc.cluster.local}}]",
                    "route: [{destination: {host: echo.demo.svc.cluster.local, subset: v9}}]")
                .replace(
                    "- route: [{destination: {host: web}}]",
                    "- route: [{destination: {host: missing}}]"));
    var generated = routesWithWarnings(snapshot, IN_SHOP);

    assertThat(generated.warnings())
        .contains(
            "VirtualService shop/web spec.http[0]: IST0101 subset v9 of echo.demo.svc.cluster.local"
                + " is defined by no DestinationRule this proxy sees; requests routed to it fail",
            "VirtualService shop/web spec.http[1]: IST0101 destination host"
                + " missing.shop.svc.cluster.local is not in the service registry; requests routed"
                + " to it fail");
    assertThat(generated.warnings())
        .as("echo's own split names subsets its rule defines")
        .noneMatch(warning -> warning.startsWith("VirtualService demo/echo"));
  }

  /** The proxy's route configuration {@code 8080}, with the warnings of its generation. */
  private dev.bosun.controlplane.xds.scope.Generated routesWithWarnings(
      MeshSnapshot snapshot, ProxyView proxy) {
    return generators
        .generator(proxy, XdsTypes.ROUTE)
        .orElseThrow()
        .generate(snapshot, proxy, Set.of("8080"));
  }

  private Message inbound(MeshSnapshot snapshot, ProxyView proxy) {
    return generate(snapshot, proxy, XdsTypes.LISTENER, Set.of()).get("virtualInbound");
  }

  private RouteConfiguration routes(MeshSnapshot snapshot, ProxyView proxy) {
    return (RouteConfiguration)
        generate(snapshot, proxy, XdsTypes.ROUTE, Set.of("8080")).get("8080");
  }

  private static VirtualHost virtualHost(RouteConfiguration config, String name) {
    return config.getVirtualHostsList().stream()
        .filter(host -> host.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no virtual host " + name + " in " + config));
  }

  /**
   * What an edit concerns, checked against what it really changed; and the route pieces carried
   * into the edited snapshot ({@link CarriedRoutes}) checked against a generation afresh.
   */
  private Concerned edit(ConfigKey key, String before, String after) {
    MeshSnapshot old = TestSnapshots.of("before", before);
    MeshSnapshot current = TestSnapshots.of("after", after);
    MeshSnapshot fresh = TestSnapshots.of("after", after);
    MeshChange change = MeshChange.of(PushRequest.config(key, "edit", 1), old, current);
    Map<List<String>, Set<String>> names = new HashMap<>();
    Map<List<String>, Map<String, ? extends Message>> was = new HashMap<>();
    for (ProxyView proxy : PROXIES) {
      for (String type : TYPES) {
        List<String> at = List.of(proxy.id(), type);
        names.put(at, names(proxy, type, old, fresh));
        was.put(at, generate(old, proxy, type, names.get(at)));
      }
    }
    CarriedRoutes.carryOver(old, current, change);
    CarriedInbound.carryOver(old, current, change);
    Concerned concerned = new Concerned();
    for (ProxyView proxy : PROXIES) {
      for (String type : TYPES) {
        List<String> at = List.of(proxy.id(), type);
        boolean concerns = concerns(change, proxy, type);
        Map<String, ? extends Message> is = generate(current, proxy, type, names.get(at));
        assertThat(is)
            .as("%s of %s with pieces carried over %s: as generated afresh", type, proxy.id(), key)
            .isEqualTo(generate(fresh, proxy, type, names.get(at)));
        if (!was.get(at).equals(is)) {
          assertThat(concerns)
              .as("%s changed %s of %s, so it must concern them", key, type, proxy.id())
              .isTrue();
        }
        if (concerns) {
          concerned.add(proxy, type);
        }
      }
    }
    return concerned;
  }

  private boolean concerns(MeshChange change, ProxyView proxy, String type) {
    return generators.generator(proxy, type).orElseThrow().concerns(change, proxy);
  }

  private Map<String, ? extends Message> generate(
      MeshSnapshot snapshot, ProxyView proxy, String type, Set<String> names) {
    return generators
        .generator(proxy, type)
        .orElseThrow()
        .generate(snapshot, proxy, names)
        .resources();
  }

  /**
   * What the proxy subscribes to in either snapshot: a sidecar every EDS cluster and route name its
   * clusters and listeners name (CDS and LDS by wildcard); a gRPC client what it dials.
   */
  private Set<String> names(ProxyView proxy, String type, MeshSnapshot... snapshots) {
    Set<String> names = new TreeSet<>();
    if (proxy.isProxylessGrpc()) {
      List<String> hosts = List.of("echo.demo.svc.cluster.local", "web.shop.svc.cluster.local");
      for (String host : hosts) {
        switch (type) {
          case XdsTypes.LISTENER, XdsTypes.ROUTE -> names.add(host + ":8080");
          default -> {
            for (String subset : List.of("", "v1", "v2")) {
              names.add("outbound|8080|" + subset + "|" + host);
            }
          }
        }
      }
      return names;
    }
    for (MeshSnapshot snapshot : snapshots) {
      switch (type) {
        case XdsTypes.ENDPOINT ->
            generate(snapshot, proxy, XdsTypes.CLUSTER, Set.of())
                .values()
                .forEach(
                    c -> {
                      Cluster cluster = (Cluster) c;
                      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
                        names.add(cluster.getEdsClusterConfig().getServiceName());
                      }
                    });
        case XdsTypes.ROUTE ->
            generate(snapshot, proxy, XdsTypes.LISTENER, Set.of())
                .values()
                .forEach(l -> names.addAll(routeNames((Listener) l)));
        default -> {}
      }
    }
    return names;
  }

  private static Set<String> routeNames(Listener listener) {
    Set<String> names = new TreeSet<>();
    for (var chain : listener.getFilterChainsList()) {
      for (var filter : chain.getFiltersList()) {
        if (!filter.getTypedConfig().is(HttpConnectionManager.class)) {
          continue;
        }
        try {
          HttpConnectionManager manager =
              filter.getTypedConfig().unpack(HttpConnectionManager.class);
          if (manager.hasRds()) {
            names.add(manager.getRds().getRouteConfigName());
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    return names;
  }

  /** The types a change concerns, per proxy, in the order of {@link #TYPES}. */
  private static final class Concerned {
    private final Map<String, List<String>> types = new LinkedHashMap<>();

    void add(ProxyView proxy, String type) {
      types.computeIfAbsent(proxy.id(), id -> new ArrayList<>()).add(type);
    }

    List<String> types(ProxyView proxy) {
      return types.getOrDefault(proxy.id(), List.of());
    }
  }

  private static ConfigKey key(IstioKind kind, String namespace, String name) {
    return new ConfigKey(kind, namespace, name);
  }

  private static ProxyView sidecar(String ip, String pod, String namespace, String app) {
    return ProxyView.of(node("sidecar~" + ip + "~" + pod + "." + namespace, namespace, app, ""));
  }

  private static ProxyView proxyless(String ip, String namespace) {
    return ProxyView.of(
        node("sidecar~" + ip + "~client." + namespace, namespace, "client", "grpc"));
  }

  private static Node node(String id, String namespace, String app, String generator) {
    Struct.Builder metadata =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build())
            .putFields(
                "LABELS",
                Value.newBuilder()
                    .setStructValue(
                        Struct.newBuilder()
                            .putFields("app", Value.newBuilder().setStringValue(app).build()))
                    .build());
    if (!generator.isEmpty()) {
      metadata.putFields("GENERATOR", Value.newBuilder().setStringValue(generator).build());
    }
    return Node.newBuilder()
        .setId(id + "~" + namespace + ".svc.cluster.local")
        .setMetadata(metadata)
        .build();
  }
}
