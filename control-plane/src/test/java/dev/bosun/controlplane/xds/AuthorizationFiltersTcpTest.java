package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.policy.AuthorizationFilters.NETWORK_FILTER;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy to RBAC network filters, for a sidecar's inbound chains that carry no HTTP:
 * what a connection shows is matched as on HTTP chains, request attributes are resolved toward
 * denying as Istio's TCP filter resolves them, and every filter passes Envoy's constraints.
 */
class AuthorizationFiltersTcpTest {
  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();
  private static final String RULE_0 = "ns[shop]-policy[reviews]-rule[0]";
  private static final String RULE_1 = "ns[shop]-policy[reviews]-rule[1]";
  private static final String HTTP_ONLY = "an HTTP request attribute, which a TCP chain cannot see";

  private final List<String> warnings = new ArrayList<>();

  @Test
  void noPolicies_noFilters() {
    assertThat(AuthorizationFilters.networkFilters(List.of(), "cluster.local", warnings::add))
        .isEmpty();
  }

  @Test
  void connectionAttributes_sameRbacPolicyAsOnHttpChains_inANetworkFilterWithIstiosStatPrefix() {
    String policy =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews, namespace: shop}
        spec:
          rules:
          - from:
            - source:
                principals: [cluster.local/ns/shop/sa/web]
                namespaces: [frontend]
                notIpBlocks: [10.1.0.0/16]
            to:
            - operation: {ports: ["5432"]}
            when:
            - {key: connection.sni, values: ["*.shop.svc.cluster.local"]}
            - {key: destination.ip, values: [10.0.0.0/8]}
        """;

    Filter filter = single(tcp(policy));

    assertThat(filter.getName()).isEqualTo(NETWORK_FILTER);
    var rbac = networkRbac(filter);
    assertThat(rbac.getStatPrefix()).isEqualTo("tcp.");
    assertThat(rbac.getRules().getAction()).isEqualTo(RBAC.Action.ALLOW);
    HttpFilter http =
        AuthorizationFilters.httpFilters(entries(policy), "cluster.local", false, warnings::add)
            .get(0);
    assertThat(onlyPolicy(filter))
        .isEqualTo(AuthorizationFiltersTest.httpRbac(http).getRules().getPoliciesOrThrow(RULE_0));
    assertThat(warnings).isEmpty();
  }

  @Test
  void allowRuleWithRequestAttributes_isLeftOut_soAnAllowPolicyOfOnlySuchRulesDeniesAll() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from: [{source: {namespaces: [frontend]}}]
                    to: [{operation: {methods: [GET], paths: [/reviews/*]}}]
                """));

    RBAC rules = networkRbac(filter).getRules();
    assertThat(rules.getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(rules.getPoliciesMap()).as("an ALLOW filter with no policy denies all").isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.methods: "
                + HTTP_ONLY
                + "; ALLOW rule "
                + RULE_0
                + " left out, so it allows less");
  }

  @Test
  void allowRules_onlyThoseNeedingRequestAttributesAreLeftOut() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - to: [{operation: {hosts: [reviews.shop]}}]
                  - from: [{source: {namespaces: [ops]}}]
                  - when: [{key: "request.headers[x-user]", values: [alice]}]
                """));

    assertThat(networkRbac(filter).getRules().getPoliciesMap()).containsOnlyKeys(RULE_1);
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.hosts: "
                + HTTP_ONLY
                + "; ALLOW rule "
                + RULE_0
                + " left out, so it allows less",
            "AuthorizationPolicy shop/reviews: spec.rules[2].when[0].key:"
                + " \"request.headers[x-user]\": "
                + HTTP_ONLY
                + "; ALLOW rule ns[shop]-policy[reviews]-rule[2] left out, so it allows less");
  }

  @Test
  void denyRuleWithRequestAttributes_ignoresThem_soItDeniesMoreConnections() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  action: DENY
                  rules:
                  - from: [{source: {notNamespaces: [ops], requestPrincipals: ["*"]}}]
                    to: [{operation: {paths: [/admin], notMethods: [GET], ports: ["5432"]}}]
                    when:
                    - {key: "request.auth.claims[group]", values: [guests]}
                    - {key: "request.headers[x-debug]", notValues: ["*"]}
                """));

    assertThat(networkRbac(filter).getRules().getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(onlyPolicy(filter))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [
                   {"orRules": {"rules": [{"destinationPort": 5432}]}}]}}],
                 "principals": [{"andIds": {"ids": [
                   {"notId": {"orIds": {"ids": [
                     {"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/ops/.*"}}}}]}}}]}}]}
                """));
    String widened = HTTP_ONLY + "; ignored, so the DENY rule matches more connections";
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].key:"
                + " \"request.auth.claims[group]\": "
                + widened,
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[1].key:"
                + " \"request.headers[x-debug]\": "
                + widened,
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.notMethods: "
                + widened,
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.paths: " + widened,
            "AuthorizationPolicy shop/reviews: spec.rules[0].from[0].source.requestPrincipals: "
                + widened);
  }

  @Test
  void denyRuleOfOnlyRequestAttributes_deniesEveryConnection() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  action: DENY
                  rules: [{to: [{operation: {paths: [/admin]}}]}]
                """));

    assertThat(onlyPolicy(filter))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [{"any": true}]}}],
                 "principals": [{"andIds": {"ids": [{"any": true}]}}]}
                """));
  }

  @Test
  void customPolicy_deniesTheConnectionsItsRulesMatch_requestAttributesIgnored() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ext-authz, namespace: shop}
                spec:
                  action: CUSTOM
                  provider: {name: opa}
                  rules:
                  - from: [{source: {ipBlocks: [198.51.100.0/24]}}]
                    to: [{operation: {paths: [/admin]}}]
                """));

    RBAC rules = networkRbac(filter).getRules();
    assertThat(rules.getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(rules.getPoliciesMap())
        .containsExactly(
            Map.entry(
                "istio-ext-authz-opa-ns[shop]-policy[ext-authz]-rule[0]-deny-due-to-bad-CUSTOM-action",
                policy(
                    """
                    {"permissions": [{"andRules": {"rules": [{"any": true}]}}],
                     "principals": [{"andIds": {"ids": [{"orIds": {"ids": [
                       {"directRemoteIp": {"addressPrefix": "198.51.100.0", "prefixLen": 24}}]}}]}}]}
                    """)));
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/ext-authz: spec.provider.name: \"opa\": no such"
                + " envoyExtAuthzHttp or envoyExtAuthzGrpc provider in the mesh config's"
                + " extensionProviders (it has []); its rules are enforced as DENY rules",
            "AuthorizationPolicy shop/ext-authz: spec.rules[0].to[0].operation.paths: "
                + HTTP_ONLY
                + "; ignored, so the DENY rule matches more connections");
  }

  @Test
  void denyAndAllow_denyFilterFirst_bothWithIstiosName() {
    List<Filter> filters =
        tcp(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec:
              rules: [{from: [{source: {namespaces: [frontend]}}]}]
            """,
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: block, namespace: shop}
            spec:
              action: DENY
              rules: [{from: [{source: {ipBlocks: [192.0.2.0/24]}}]}]
            """);

    assertThat(filters).extracting(Filter::getName).containsExactly(NETWORK_FILTER, NETWORK_FILTER);
    assertThat(networkRbac(filters.get(0)).getRules().getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(networkRbac(filters.get(0)).getRules().getPoliciesMap())
        .containsOnlyKeys("ns[shop]-policy[block]-rule[0]");
    assertThat(networkRbac(filters.get(1)).getRules().getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(networkRbac(filters.get(1)).getRules().getPoliciesMap()).containsOnlyKeys(RULE_0);
  }

  @Test
  void dryRunPolicy_isAShadowRule_withIstiosStatPrefix() {
    Filter filter =
        single(
            tcp(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: reviews
                  namespace: shop
                  annotations: {istio.io/dry-run: "true"}
                spec:
                  rules: [{from: [{source: {namespaces: [frontend]}}]}]
                """));

    var rbac = networkRbac(filter);
    assertThat(rbac.hasRules()).isFalse();
    assertThat(rbac.getShadowRules().getPoliciesMap()).containsOnlyKeys(RULE_0);
    assertThat(rbac.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_allow_");
    assertThat(rbac.getStatPrefix()).isEqualTo("tcp.");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private List<Filter> tcp(String... documents) {
    return AuthorizationFilters.networkFilters(entries(documents), "cluster.local", warnings::add);
  }

  private static List<ConfigEntry> entries(String... documents) {
    return Arrays.stream(documents).map(AuthorizationFiltersTest::entry).toList();
  }

  private static Filter single(List<Filter> filters) {
    assertThat(filters).hasSize(1);
    return filters.get(0);
  }

  /** The filter's config; every generated one must pass Envoy's own constraints. */
  static io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC networkRbac(Filter filter) {
    try {
      var rbac =
          filter
              .getTypedConfig()
              .unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class);
      assertThat(VALIDATOR.check(filter)).as("Envoy's constraints").isEmpty();
      return rbac;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static Policy onlyPolicy(Filter filter) {
    Map<String, Policy> policies = networkRbac(filter).getRules().getPoliciesMap();
    assertThat(policies).containsOnlyKeys(RULE_0);
    return policies.get(RULE_0);
  }

  private static Policy policy(String json) {
    try {
      Policy.Builder policy = Policy.newBuilder();
      JsonFormat.parser().merge(json, policy);
      return policy.build();
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("expected config does not parse: " + json, e);
    }
  }
}
