package dev.bosun.controlplane.snapshot;

import static dev.bosun.controlplane.Fixtures.pod;
import static dev.bosun.controlplane.Fixtures.service;
import static dev.bosun.controlplane.Fixtures.slice;
import static dev.bosun.controlplane.Yaml.doc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.Fixtures.Ep;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.registry.ServiceRegistry;
import dev.bosun.crd.IstioKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SnapshotTest {
  private final ServiceRegistry registry = new ServiceRegistry("cluster.local");
  private final ConfigStore store = new ConfigStore(new SimpleMeterRegistry());
  private final SnapshotBuilder builder = new SnapshotBuilder("istio-system");

  private MeshSnapshot build(long version) {
    return builder.full(
        version,
        Instant.EPOCH,
        new SnapshotBuilder.Inputs(
            Map.copyOf(registry.services()),
            registry::endpoints,
            store.all(),
            List.copyOf(registry.pods())));
  }

  private void put(String yaml) {
    assertThat(store.put(doc(yaml), "test")).isEqualTo(ConfigStore.Outcome.APPLIED);
  }

  private static String vs(
      String namespace, String name, String created, String host, String extra) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
          hosts: [%s]
          %s
          http:
          - route:
            - destination: {host: %s}
        """
        .formatted(name, namespace, created, host, extra, host);
  }

  @Test
  void conflictingVirtualServices_oldestWins_andTheLoserIsReported() {
    put(vs("shop", "newer", "2026-02-01T00:00:00Z", "reviews.shop.svc.cluster.local", ""));
    put(vs("shop", "older", "2026-01-01T00:00:00Z", "reviews.shop.svc.cluster.local", ""));
    MeshSnapshot snapshot = build(1);
    assertThat(
            snapshot
                .config()
                .virtualService("reviews.shop.svc.cluster.local", "shop")
                .orElseThrow()
                .key()
                .name())
        .isEqualTo("older");
    assertThat(snapshot.conflicts())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.winner())
                  .isEqualTo(new ConfigKey(IstioKind.VIRTUAL_SERVICE, "shop", "older"));
              assertThat(c.loser())
                  .isEqualTo(new ConfigKey(IstioKind.VIRTUAL_SERVICE, "shop", "newer"));
              assertThat(c.toString())
                  .isEqualTo(
                      "VirtualService shop/newer ignored for VirtualService host reviews.shop.svc.cluster.local:"
                          + " VirtualService shop/older takes precedence (older, or same age and sorts first)");
            });
  }

  @Test
  void sameAge_nameThenNamespaceDecides() {
    put(vs("b-ns", "same", "2026-01-01T00:00:00Z", "api.example.com", ""));
    put(vs("a-ns", "same", "2026-01-01T00:00:00Z", "api.example.com", ""));
    put(vs("c-ns", "aaa", "2026-01-01T00:00:00Z", "api.example.com", ""));
    MeshSnapshot snapshot = build(1);
    assertThat(snapshot.config().virtualService("api.example.com", "elsewhere").orElseThrow().key())
        .isEqualTo(new ConfigKey(IstioKind.VIRTUAL_SERVICE, "c-ns", "aaa"));
    assertThat(snapshot.conflicts())
        .extracting(c -> c.loser().namespace())
        .containsExactly("a-ns", "b-ns");
  }

  @Test
  void exportTo_hidesConfigFromOtherNamespaces_andOwnNamespaceComesFirst() {
    put(
        vs(
            "shop",
            "private",
            "2026-03-01T00:00:00Z",
            "reviews.shop.svc.cluster.local",
            "exportTo: [\".\"]"));
    put(vs("ops", "public", "2026-01-01T00:00:00Z", "reviews.shop.svc.cluster.local", ""));
    MeshSnapshot snapshot = build(1);
    assertThat(
            snapshot
                .config()
                .virtualService("reviews.shop.svc.cluster.local", "shop")
                .orElseThrow()
                .key()
                .name())
        .isEqualTo("private");
    assertThat(
            snapshot
                .config()
                .virtualService("reviews.shop.svc.cluster.local", "billing")
                .orElseThrow()
                .key()
                .name())
        .isEqualTo("public");
    assertThat(snapshot.conflicts()).as("exported to disjoint namespaces: no conflict").isEmpty();
  }

  private static String gateway(String namespace, String name, String created, String hosts) {
    return """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: %s
            tls: {mode: SIMPLE, credentialName: cert}
        """
        .formatted(name, namespace, created, hosts);
  }

  @Test
  void twoGatewaysOfOneSelector_withATlsHostOnOnePort_conflict_andTheOlderWins() {
    put(gateway("shop", "shop", "2026-01-01T00:00:00Z", "[shop.example.com, api.example.com]"));
    put(gateway("api", "api", "2026-02-01T00:00:00Z", "[api.example.com]"));
    put(gateway("blog", "blog", "2026-03-01T00:00:00Z", "[blog.example.com]"));
    MeshSnapshot snapshot = build(1);
    assertThat(snapshot.conflicts())
        .singleElement()
        .hasToString(
            "Gateway api/api ignored for Gateway TLS host api.example.com on port 443: Gateway"
                + " shop/shop takes precedence (older, or same age and sorts first)");
  }

  @Test
  void gatewayVirtualServices_privateToTheGatewaysNamespaceFirst_thenExportedToIt_thenPublic() {
    put(
        vs(
            "shop",
            "public",
            "2026-01-01T00:00:00Z",
            "shop.example.com",
            "gateways: [istio-system/gw]"));
    put(
        vs(
            "shop",
            "listed",
            "2026-02-01T00:00:00Z",
            "shop.example.com",
            "gateways: [istio-system/gw]\n  exportTo: [istio-system, shop]"));
    put(
        vs(
            "istio-system",
            "private",
            "2026-03-01T00:00:00Z",
            "shop.example.com",
            "gateways: [gw]\n  exportTo: [\".\"]"));
    MeshSnapshot snapshot = build(1);
    assertThat(
            snapshot
                .config()
                .virtualServicesForGateway("istio-system", "gw", "istio-system")
                .stream()
                .map(e -> e.key().name())
                .toList())
        .containsExactly("private", "listed", "public");
  }

  @Test
  void gatewayBoundVirtualService_isNotUsedOnTheMesh() {
    put(
        vs(
            "shop",
            "edge",
            "2026-01-01T00:00:00Z",
            "shop.example.com",
            "gateways: [istio-ingress/public]"));
    MeshSnapshot snapshot = build(1);
    assertThat(snapshot.config().virtualService("shop.example.com", "shop")).isEmpty();
    assertThat(
            snapshot.config().virtualServicesForGateway("istio-ingress", "public", "istio-ingress"))
        .hasSize(1);
  }

  @Test
  void destinationRule_lookupOrder_clientNamespace_serviceNamespace_root() {
    String dr =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: %s, namespace: %s}
        spec: {host: "%s"}
        """;
    put(dr.formatted("root", "istio-system", "*.svc.cluster.local"));
    put(dr.formatted("owner", "shop", "reviews.shop.svc.cluster.local"));
    put(dr.formatted("client", "billing", "reviews.shop.svc.cluster.local"));
    ConfigIndex index = build(1).config();
    String host = "reviews.shop.svc.cluster.local";
    assertThat(index.destinationRule(host, "billing", "shop").orElseThrow().key().name())
        .isEqualTo("client");
    assertThat(index.destinationRule(host, "frontend", "shop").orElseThrow().key().name())
        .isEqualTo("owner");
    assertThat(
            index
                .destinationRule("ratings.shop.svc.cluster.local", "frontend", "shop")
                .orElseThrow()
                .key()
                .name())
        .isEqualTo("root");
  }

  @Test
  void destinationRulesOfOneHostInOneNamespace_mergeAsIstiodMergesThem() {
    String dr =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: %s, namespace: shop, creationTimestamp: "%s"}
        spec:
          host: reviews
          %s
        """;
    put(
        dr.formatted(
            "subsets",
            "2026-01-01T00:00:00Z",
            "subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]"));
    put(
        dr.formatted(
            "policy",
            "2026-01-02T00:00:00Z",
            "trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n  subsets: [{name: v2, labels:"
                + " {track: other}}, {name: v3, labels: {version: v3}}]"));
    put(
        dr.formatted(
            "later-policy",
            "2026-01-03T00:00:00Z",
            "trafficPolicy: {loadBalancer: {simple: RANDOM}}"));
    put(
        dr.formatted(
            "private",
            "2026-01-04T00:00:00Z",
            "exportTo: [\".\"]\n  subsets: [{name: v4, labels: {version: v4}}]"));
    MeshSnapshot snapshot = build(1);

    var rule =
        snapshot.config().destinationRule("reviews.shop.svc.cluster.local", "billing", "shop");
    var spec =
        rule.orElseThrow().spec(io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule.class);
    assertThat(rule.get().key().name()).as("the oldest").isEqualTo("subsets");
    assertThat(spec.getSubsets())
        .extracting(io.fabric8.istio.api.api.networking.v1alpha3.Subset::getName)
        .containsExactly("v1", "v2", "v3");
    assertThat(spec.getSubsets().get(1).getLabels())
        .as("the older v2 kept")
        .containsEntry("version", "v2");
    assertThat(spec.getTrafficPolicy().getLoadBalancer().toString()).contains("LEAST_REQUEST");
    assertThat(snapshot.conflicts())
        .extracting(Object::toString)
        .containsExactlyInAnyOrder(
            "DestinationRule shop/policy ignored for subset v2 of DestinationRule host"
                + " reviews.shop.svc.cluster.local: DestinationRule shop/subsets takes precedence"
                + " (older, or same age and sorts first)",
            "DestinationRule shop/private ignored for DestinationRule host"
                + " reviews.shop.svc.cluster.local: DestinationRule shop/subsets takes precedence"
                + " (older, or same age and sorts first)");
    assertThat(snapshot.config().subsetNames("reviews.shop.svc.cluster.local"))
        .containsExactly("v1", "v2", "v3", "v4");
  }

  @Test
  void sidecarAndPolicies_areSelectedByNamespaceAndLabels() {
    put(
        """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: shop}
        spec:
          egress:
          - hosts: ["./*"]
        """);
    put(
        """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: reviews, namespace: shop}
        spec:
          workloadSelector: {labels: {app: reviews}}
          egress:
          - hosts: ["./ratings.shop.svc.cluster.local"]
        """);
    put(
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: STRICT}}
        """);
    put(
        """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: reviews, namespace: shop}
        spec:
          selector: {matchLabels: {app: reviews}}
          mtls: {mode: PERMISSIVE}
        """);
    ConfigIndex index = build(1).config();
    assertThat(index.sidecar("shop", Map.of("app", "reviews")).orElseThrow().key().name())
        .isEqualTo("reviews");
    assertThat(index.sidecar("shop", Map.of("app", "ratings")).orElseThrow().key().name())
        .isEqualTo("default");
    assertThat(index.sidecar("billing", Map.of())).isEmpty();
    assertThat(index.policies(IstioKind.PEER_AUTHENTICATION, "shop", Map.of("app", "reviews")))
        .extracting(e -> e.key().name())
        .containsExactly("default", "reviews");
    assertThat(index.policies(IstioKind.PEER_AUTHENTICATION, "shop", Map.of("app", "ratings")))
        .extracting(e -> e.key().name())
        .containsExactly("default");
  }

  @Test
  void serviceEntries_becomeServices_withEndpointsFromWorkloadEntries() {
    put(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vms, namespace: shop}
        spec:
          hosts: [legacy.shop.internal]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 8080, name: http, protocol: HTTP}]
          workloadSelector: {labels: {app: legacy}}
        """);
    put(
        """
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: vm-1, namespace: shop}
        spec: {address: 10.9.0.1, labels: {app: legacy}, serviceAccount: legacy, locality: eu/west-1/a}
        """);
    MeshSnapshot snapshot = build(1);
    MeshService legacy = snapshot.service("legacy.shop.internal").orElseThrow();
    assertThat(legacy.origin()).isEqualTo(MeshService.Origin.SERVICE_ENTRY);
    assertThat(legacy.meshExternal()).isFalse();
    assertThat(snapshot.endpoints("legacy.shop.internal", "http", Map.of()))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.address()).isEqualTo("10.9.0.1");
              assertThat(e.serviceAccount()).isEqualTo("legacy");
              assertThat(e.locality().region()).isEqualTo("eu");
              assertThat(e.ports()).containsEntry("http", 8080);
            });
  }

  @Test
  void endpointsOnlyUpdate_sharesServicesAndConfig_andReplacesOnlyChangedHosts() {
    registry.upsertService(service("shop", "reviews", 9080, "http"));
    registry.upsertService(service("shop", "ratings", 9080, "http"));
    registry.upsertPod(pod("shop", "r1", "10.0.0.1", "sa", Map.of("version", "v1")));
    registry.upsertEndpointSlice(
        slice("shop", "a", "reviews", "http", 9080, Ep.ready("10.0.0.1", "r1")));
    registry.upsertEndpointSlice(
        slice("shop", "b", "ratings", "http", 9080, Ep.ready("10.0.0.5", null)));
    put(vs("shop", "reviews", "2026-01-01T00:00:00Z", "reviews.shop.svc.cluster.local", ""));
    MeshSnapshot first = build(1);

    registry.upsertEndpointSlice(
        slice(
            "shop",
            "a",
            "reviews",
            "http",
            9080,
            Ep.ready("10.0.0.1", "r1"),
            Ep.ready("10.0.0.2", null)));
    MeshSnapshot second =
        builder.withEndpoints(
            first,
            2,
            Instant.EPOCH,
            Map.of(
                "reviews.shop.svc.cluster.local",
                registry.endpoints("reviews.shop.svc.cluster.local")));

    assertThat(second.version()).isEqualTo(2);
    assertThat(second.config()).isSameAs(first.config());
    assertThat(second.services()).isSameAs(first.services());
    assertThat(second.endpoints("ratings.shop.svc.cluster.local"))
        .isSameAs(first.endpoints("ratings.shop.svc.cluster.local"));
    assertThat(second.endpoints("reviews.shop.svc.cluster.local"))
        .extracting(Endpoint::address)
        .containsExactly("10.0.0.1", "10.0.0.2");
    assertThat(first.endpoints("reviews.shop.svc.cluster.local"))
        .as("snapshots are immutable")
        .hasSize(1);
    assertThat(second.endpoints("reviews.shop.svc.cluster.local", "http", Map.of("version", "v1")))
        .extracting(Endpoint::address)
        .containsExactly("10.0.0.1");
  }
}
