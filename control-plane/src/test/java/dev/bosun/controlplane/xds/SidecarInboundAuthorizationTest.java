package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy on the sidecar's inbound listener: every chain that reaches the workload
 * enforces it, HTTP chains with RBAC HTTP filters and all others with RBAC network filters; chains
 * that refuse the connection anyway need none.
 */
class SidecarInboundAuthorizationTest {
  private static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  private static final String HCM = "envoy.filters.network.http_connection_manager";
  private static final String RBAC = AuthorizationFilters.NETWORK_FILTER;
  private static final String DEFAULT_CHAIN = "(default)";

  private final EnvoyValidator validator = new EnvoyValidator();
  private final SidecarGenerator generator = new SidecarGenerator("cluster.local");

  private static final ProxyView DB =
      new ProxyView(
          "sidecar~10.0.0.7~db-1.data~data.svc.cluster.local",
          "sidecar",
          "10.0.0.7",
          "data",
          Map.of("app", "db"),
          "",
          Locality.UNKNOWN,
          "",
          "",
          List.of());

  private static final String ALLOW_FRONTEND =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: db, namespace: data}
      spec:
        selector: {matchLabels: {app: db}}
        rules:
        - from: [{source: {namespaces: [frontend]}}]
      """;

  private static MeshSnapshot mesh(String config) {
    return TestSnapshots.of(
        "mesh.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: data}
        spec: {clusterIP: 10.96.0.70, ports: [{name: http-admin, port: 8080}, {name: tcp-pg, port: 5432}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: db-1, namespace: data, labels: {app: db, security.istio.io/tlsMode: istio}}
        spec: {serviceAccountName: db, containers: [{name: db, image: db}]}
        status: {podIP: 10.0.0.7}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: db-1, namespace: data, labels: {kubernetes.io/service-name: db}}
        addressType: IPv4
        ports: [{name: http-admin, port: 8080}, {name: tcp-pg, port: 5432}]
        endpoints:
        - addresses: [10.0.0.7]
          targetRef: {kind: Pod, name: db-1, namespace: data}
        ---
        """
            + config);
  }

  private Listener inbound(MeshSnapshot snapshot) {
    Listener listener =
        (Listener) generator.listeners(snapshot, DB).resources().get("virtualInbound");
    assertThat(validator.check(listener)).as("Envoy's constraints").isEmpty();
    return listener;
  }

  /** Each chain's name and the names of its filters, the default chain last. */
  private static Map<String, List<String>> filtersByChain(Listener listener) {
    Map<String, List<String>> chains = new LinkedHashMap<>();
    for (FilterChain chain : listener.getFilterChainsList()) {
      chains.put(chain.getName(), chain.getFiltersList().stream().map(Filter::getName).toList());
    }
    if (listener.hasDefaultFilterChain()) {
      chains.put(
          DEFAULT_CHAIN,
          listener.getDefaultFilterChain().getFiltersList().stream().map(Filter::getName).toList());
    }
    return chains;
  }

  @Test
  void permissive_everyChainButHttpHasNetworkRbacBeforeTheTcpProxy() {
    Listener listener = inbound(mesh(ALLOW_FRONTEND));

    assertThat(filtersByChain(listener))
        .containsExactly(
            Map.entry("inbound|5432||-mtls", List.of(RBAC, TCP_PROXY)),
            Map.entry("inbound|5432||", List.of(RBAC, TCP_PROXY)),
            Map.entry("inbound|8080||-mtls", List.of(HCM)),
            Map.entry("inbound|8080||", List.of(HCM)),
            Map.entry("virtualInbound-mtls", List.of(RBAC, TCP_PROXY)),
            Map.entry(DEFAULT_CHAIN, List.of(RBAC, TCP_PROXY)));
    var rbac = AuthorizationFiltersTcpTest.networkRbac(listener.getFilterChains(0).getFilters(0));
    assertThat(rbac.getRules().getPoliciesMap()).containsOnlyKeys("ns[data]-policy[db]-rule[0]");
  }

  @Test
  void httpChains_keepTheRbacHttpFilter() throws Exception {
    Listener listener = inbound(mesh(ALLOW_FRONTEND));

    HttpConnectionManager manager =
        listener
            .getFilterChains(2)
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    assertThat(manager.getHttpFiltersList())
        .extracting(HttpFilter::getName)
        .startsWith(AuthorizationFilters.ALLOW_FILTER);
  }

  @Test
  void strictPortInPermissiveWorkload_refusingChainNeedsNoRbac() {
    Listener listener =
        inbound(
            mesh(
                ALLOW_FRONTEND
                    + """
                    ---
                    apiVersion: security.istio.io/v1
                    kind: PeerAuthentication
                    metadata: {name: db, namespace: data}
                    spec:
                      selector: {matchLabels: {app: db}}
                      portLevelMtls: {5432: {mode: STRICT}}
                    """));

    assertThat(filtersByChain(listener))
        .containsEntry("inbound|5432||-mtls", List.of(RBAC, TCP_PROXY))
        .containsEntry("inbound|5432||-plaintext-refused", List.of(TCP_PROXY))
        .containsEntry(DEFAULT_CHAIN, List.of(RBAC, TCP_PROXY));
  }

  @Test
  void passthroughChainsOfAnUndeclaredPort_haveNetworkRbacToo() {
    Listener listener =
        inbound(
            mesh(
                ALLOW_FRONTEND
                    + """
                    ---
                    apiVersion: security.istio.io/v1
                    kind: PeerAuthentication
                    metadata: {name: db, namespace: data}
                    spec:
                      selector: {matchLabels: {app: db}}
                      portLevelMtls: {9187: {mode: STRICT}, 9443: {mode: DISABLE}}
                    """));

    assertThat(filtersByChain(listener))
        .containsEntry("virtualInbound|9187-mtls", List.of(RBAC, TCP_PROXY))
        .containsEntry("virtualInbound|9187-plaintext-refused", List.of(TCP_PROXY))
        .containsEntry("virtualInbound|9443", List.of(RBAC, TCP_PROXY));
  }

  @Test
  void noPolicy_noRbacAnywhere() {
    Listener listener = inbound(mesh(""));

    assertThat(filtersByChain(listener).values())
        .allSatisfy(filters -> assertThat(filters).doesNotContain(RBAC));
  }

  @Test
  void denyPolicy_comesBeforeAllow_onTcpChains() {
    Listener listener =
        inbound(
            mesh(
                ALLOW_FRONTEND
                    + """
                    ---
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata: {name: no-test, namespace: data}
                    spec:
                      action: DENY
                      rules: [{from: [{source: {namespaces: [test]}}]}]
                    """));

    FilterChain passthrough = listener.getDefaultFilterChain();
    assertThat(passthrough.getFiltersList())
        .extracting(Filter::getName)
        .containsExactly(RBAC, RBAC, TCP_PROXY);
    assertThat(
            AuthorizationFiltersTcpTest.networkRbac(passthrough.getFilters(0))
                .getRules()
                .getAction())
        .isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY);
  }
}
