package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.policy.AuthorizationFilters.ALLOW_FILTER;
import static dev.bosun.controlplane.xds.policy.AuthorizationFilters.DENY_FILTER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.Yaml;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.validation.ConfigValidator;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * AuthorizationPolicy to RBAC filters: the exact RBAC for each Istio field, what is left out or
 * widened (and said so) for Envoy and for proxyless gRPC servers, and Envoy's constraints on every
 * generated filter.
 */
class AuthorizationFiltersTest {
  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();
  private static final String RULE_0 = "ns[shop]-policy[reviews]-rule[0]";

  private final List<String> warnings = new ArrayList<>();

  @Test
  void noPolicies_noFilters() {
    assertThat(AuthorizationFilters.httpFilters(List.of(), "cluster.local", false, warnings::add))
        .isEmpty();
  }

  @Test
  void allowPrincipals_matchSpiffeIdsWithIstioWildcards() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source:
                        principals: [cluster.local/ns/shop/sa/web, cluster.local/ns/ops/*, "*/sa/admin", "*"]
                """));

    assertThat(filter.getName()).isEqualTo(ALLOW_FILTER);
    assertThat(rules(filter).getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(onlyPolicy(filter))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [{"any": true}]}}],
                 "principals": [{"andIds": {"ids": [{"orIds": {"ids": [
                   {"authenticated": {"principalName": {"exact": "spiffe://cluster.local/ns/shop/sa/web"}}},
                   {"authenticated": {"principalName": {"prefix": "spiffe://cluster.local/ns/ops/"}}},
                   {"authenticated": {"principalName": {"safeRegex": {"regex": "spiffe://.*/sa/admin"}}}},
                   {"authenticated": {"principalName": {"safeRegex": {"regex": ".+"}}}}
                 ]}}]}}]}
                """));
    assertThat(warnings).isEmpty();
  }

  @Test
  void allowNamespaces_matchTheNamespaceInsideThePeerId() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source: {namespaces: [frontend, team-*]}
                """));

    assertThat(onlyPolicy(filter).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [{"orIds": {"ids": [
                  {"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/frontend/.*"}}}},
                  {"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/team-.*/.*"}}}}
                ]}}]}}
                """));
  }

  @Test
  void denyPaths_exactPrefixSuffixAndAny_inOneDenyFilter() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  action: DENY
                  rules:
                  - to:
                    - operation: {paths: [/admin, /admin/*, "*/secret", "*"]}
                """));

    assertThat(filter.getName()).isEqualTo(DENY_FILTER);
    assertThat(rules(filter).getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(onlyPolicy(filter))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [{"orRules": {"rules": [
                   {"urlPath": {"path": {"exact": "/admin"}}},
                   {"urlPath": {"path": {"prefix": "/admin/"}}},
                   {"urlPath": {"path": {"suffix": "/secret"}}},
                   {"urlPath": {"path": {"safeRegex": {"regex": ".+"}}}}
                 ]}}]}}],
                 "principals": [{"andIds": {"ids": [{"any": true}]}}]}
                """));
  }

  @Test
  void operation_hostsIgnoreCase_methodsAndPortsExact_allAnded() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - to:
                    - operation:
                        hosts: [reviews.shop, "*.example.com", "*"]
                        methods: [GET, HEAD]
                        ports: ["9080"]
                """));

    assertThat(onlyPolicy(filter).getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [
                  {"orRules": {"rules": [
                    {"header": {"name": ":authority", "stringMatch": {"exact": "reviews.shop", "ignoreCase": true}}},
                    {"header": {"name": ":authority", "stringMatch": {"suffix": ".example.com", "ignoreCase": true}}},
                    {"header": {"name": ":authority", "presentMatch": true}}]}},
                  {"orRules": {"rules": [
                    {"header": {"name": ":method", "stringMatch": {"exact": "GET"}}},
                    {"header": {"name": ":method", "stringMatch": {"exact": "HEAD"}}}]}},
                  {"orRules": {"rules": [{"destinationPort": 9080}]}}
                ]}}
                """));
  }

  @Test
  void notFields_areNegatedOrs_besideTheirPositiveFields() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source:
                        ipBlocks: [10.0.0.0/8]
                        notIpBlocks: [10.1.2.3]
                        notPrincipals: [cluster.local/ns/shop/sa/batch]
                        notNamespaces: [test]
                    to:
                    - operation: {notPaths: [/internal/*], notMethods: [DELETE], notPorts: ["15000"]}
                """));

    Policy policy = onlyPolicy(filter);
    assertThat(policy.getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [
                  {"notRule": {"orRules": {"rules": [{"header": {"name": ":method", "stringMatch": {"exact": "DELETE"}}}]}}},
                  {"notRule": {"orRules": {"rules": [{"urlPath": {"path": {"prefix": "/internal/"}}}]}}},
                  {"notRule": {"orRules": {"rules": [{"destinationPort": 15000}]}}}
                ]}}
                """));
    assertThat(policy.getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"notId": {"orIds": {"ids": [{"authenticated": {"principalName": {"exact": "spiffe://cluster.local/ns/shop/sa/batch"}}}]}}},
                  {"notId": {"orIds": {"ids": [{"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/test/.*"}}}}]}}},
                  {"orIds": {"ids": [{"directRemoteIp": {"addressPrefix": "10.0.0.0", "prefixLen": 8}}]}},
                  {"notId": {"orIds": {"ids": [{"directRemoteIp": {"addressPrefix": "10.1.2.3", "prefixLen": 32}}]}}}
                ]}}
                """));
  }

  @Test
  void whenConditions_callerOnesJoinPrincipals_requestOnesJoinPermissions() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - when:
                    - key: request.headers[x-user]
                      values: [alice, admin-*]
                      notValues: ["*-test"]
                    - {key: source.ip, values: ["2001:db8::/32"]}
                    - {key: source.namespace, values: [frontend]}
                    - {key: destination.port, values: ["9080"]}
                """));

    Policy policy = onlyPolicy(filter);
    assertThat(policy.getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [{"orRules": {"rules": [{"destinationPort": 9080}]}}]}}
                """));
    assertThat(policy.getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [
                    {"header": {"name": "x-user", "stringMatch": {"exact": "alice"}}},
                    {"header": {"name": "x-user", "stringMatch": {"prefix": "admin-"}}}]}},
                  {"notId": {"orIds": {"ids": [{"header": {"name": "x-user", "stringMatch": {"suffix": "-test"}}}]}}},
                  {"orIds": {"ids": [{"directRemoteIp": {"addressPrefix": "2001:db8::", "prefixLen": 32}}]}},
                  {"orIds": {"ids": [{"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/frontend/.*"}}}}]}}
                ]}}
                """));
  }

  @Test
  void severalFromsAndTos_eachBecomesOneAlternative_withTheWhenConditionsInEach() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source: {namespaces: [a]}
                    - source: {namespaces: [b]}
                    to:
                    - operation: {methods: [GET]}
                    - operation: {paths: [/health]}
                    when:
                    - {key: remote.ip, values: [192.168.0.0/16]}
                    - {key: destination.ip, values: [10.0.0.1]}
                """));

    Policy policy = onlyPolicy(filter);
    assertThat(policy.getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [
                  {"orRules": {"rules": [{"header": {"name": ":method", "stringMatch": {"exact": "GET"}}}]}},
                  {"orRules": {"rules": [{"destinationIp": {"addressPrefix": "10.0.0.1", "prefixLen": 32}}]}}]}}
                """),
            permission(
                """
                {"andRules": {"rules": [
                  {"orRules": {"rules": [{"urlPath": {"path": {"exact": "/health"}}}]}},
                  {"orRules": {"rules": [{"destinationIp": {"addressPrefix": "10.0.0.1", "prefixLen": 32}}]}}]}}
                """));
    assertThat(policy.getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [{"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/a/.*"}}}}]}},
                  {"orIds": {"ids": [{"remoteIp": {"addressPrefix": "192.168.0.0", "prefixLen": 16}}]}}]}}
                """),
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [{"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/b/.*"}}}}]}},
                  {"orIds": {"ids": [{"remoteIp": {"addressPrefix": "192.168.0.0", "prefixLen": 16}}]}}]}}
                """));
  }

  @Test
  void serviceAccounts_matchAnyTrustDomain_defaultingToThePolicyNamespace() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source: {serviceAccounts: [web, ops/deploy.bot]}
                """));

    assertThat(onlyPolicy(filter).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [{"orIds": {"ids": [
                  {"authenticated": {"principalName": {"safeRegex": {"regex": "spiffe://.+/ns/shop/(.+/)?sa/web(/.+)?"}}}},
                  {"authenticated": {"principalName": {"safeRegex": {"regex": "spiffe://.+/ns/ops/(.+/)?sa/deploy\\\\.bot(/.+)?"}}}}
                ]}}]}}
                """));
  }

  @Test
  void principalsInClusterLocal_meanTheMeshTrustDomain_othersStayAsWritten() {
    List<HttpFilter> filters =
        AuthorizationFilters.httpFilters(
            List.of(
                entry(
                    """
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata: {name: reviews, namespace: shop}
                    spec:
                      rules:
                      - from:
                        - source: {principals: [cluster.local/ns/shop/sa/web, other.org/ns/x/sa/y]}
                        when:
                        - {key: source.principal, values: [cluster.local/ns/shop/sa/*]}
                    """)),
            "example.org",
            false,
            warnings::add);

    assertThat(onlyPolicy(single(filters)).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [
                    {"authenticated": {"principalName": {"exact": "spiffe://example.org/ns/shop/sa/web"}}},
                    {"authenticated": {"principalName": {"exact": "spiffe://other.org/ns/x/sa/y"}}}]}},
                  {"orIds": {"ids": [
                    {"authenticated": {"principalName": {"prefix": "spiffe://example.org/ns/shop/sa/"}}}]}}
                ]}}
                """));
  }

  @Test
  void allowPolicyWithoutRules_allowsNothing() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec: {}
                """));

    assertThat(rules(filter))
        .isEqualTo(
            rbac(
                """
                {"action": "ALLOW", "policies": {"ns[shop]-policy[reviews]-rule[0]": {
                  "permissions": [{"notRule": {"any": true}}],
                  "principals": [{"notId": {"any": true}}]}}}
                """));
  }

  @Test
  void emptyRule_allowsEverything() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules: [{}]
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
  void denyAndAllow_denyFilterFirst_distinctNames_oneRbacPolicyPerRule() {
    List<HttpFilter> filters =
        envoy(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: frontend, namespace: shop}
            spec:
              rules:
              - from: [{source: {namespaces: [frontend]}}]
              - to: [{operation: {paths: [/health]}}]
            """,
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: mesh-deny, namespace: istio-system}
            spec:
              action: DENY
              rules: [{to: [{operation: {paths: [/debug/*]}}]}]
            """);

    assertThat(filters).extracting(HttpFilter::getName).containsExactly(DENY_FILTER, ALLOW_FILTER);
    assertThat(rules(filters.get(0)).getPoliciesMap())
        .containsOnlyKeys("ns[istio-system]-policy[mesh-deny]-rule[0]");
    assertThat(rules(filters.get(1)).getPoliciesMap())
        .containsOnlyKeys("ns[shop]-policy[frontend]-rule[0]", "ns[shop]-policy[frontend]-rule[1]");
  }

  @Test
  void auditPolicy_isALogFilterFirst_thatNeverRefuses() {
    List<HttpFilter> filters =
        envoy(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: audit, namespace: shop}
            spec:
              action: AUDIT
              rules:
              - to: [{operation: {paths: [/admin/*]}}]
              - from: [{source: {requestPrincipals: ["*"]}}]
            """,
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: frontend, namespace: shop}
            spec:
              rules: [{from: [{source: {namespaces: [frontend]}}]}]
            """);

    assertThat(filters)
        .extracting(HttpFilter::getName)
        .containsExactly(AuthorizationFilters.AUDIT_FILTER, ALLOW_FILTER);
    var audit = httpRbac(filters.get(0));
    assertThat(audit.getRules().getAction()).isEqualTo(RBAC.Action.LOG);
    assertThat(audit.getRules().getPoliciesMap())
        .containsOnlyKeys("ns[shop]-policy[audit]-rule[0]", "ns[shop]-policy[audit]-rule[1]");
    assertThat(warnings).isEmpty();
  }

  @Test
  void auditPolicy_ruleATcpChainCannotSee_isLeftOut_andGrpcServersSkipIt() {
    String audit =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: audit, namespace: shop}
        spec:
          action: AUDIT
          rules:
          - to: [{operation: {methods: [DELETE]}}]
          - from: [{source: {namespaces: [guests]}}]
        """;

    var network =
        AuthorizationFilters.networkFilters(entries(audit), "cluster.local", warnings::add);
    assertThat(network).hasSize(1);
    var rbac = AuthorizationFiltersTcpTest.networkRbac(network.get(0));
    assertThat(rbac.getRules().getAction()).isEqualTo(RBAC.Action.LOG);
    assertThat(rbac.getRules().getPoliciesMap()).containsOnlyKeys("ns[shop]-policy[audit]-rule[1]");
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/audit: spec.rules[0].to[0].operation.methods: an HTTP request"
                + " attribute, which a TCP chain cannot see; AUDIT rule"
                + " ns[shop]-policy[audit]-rule[0] left out, so it audits less");

    warnings.clear();
    assertThat(grpc(audit)).as("grpc-java refuses RBAC's LOG action").isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/audit: spec.action: AUDIT: gRPC servers cannot audit (their"
                + " RBAC has no LOG action); policy skipped");
  }

  @Test
  void customPolicy_deniesWhatItsRulesMatch_namedLikeIstiosFallback() {
    List<HttpFilter> filters =
        envoy(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ext-authz, namespace: shop}
            spec:
              action: CUSTOM
              provider: {name: opa}
              rules:
              - to: [{operation: {paths: [/admin/*]}}]
              - from: [{source: {requestPrincipals: ["*"], namespaces: [guests]}}]
            """,
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: frontend, namespace: shop}
            spec:
              rules: [{from: [{source: {namespaces: [frontend]}}]}]
            """);

    assertThat(filters).extracting(HttpFilter::getName).containsExactly(DENY_FILTER, ALLOW_FILTER);
    RBAC deny = rules(filters.get(0));
    assertThat(deny.getAction()).isEqualTo(RBAC.Action.DENY);
    String custom =
        "istio-ext-authz-opa-ns[shop]-policy[ext-authz]-rule[%d]-deny-due-to-bad-CUSTOM-action";
    assertThat(deny.getPoliciesMap()).containsOnlyKeys(custom.formatted(0), custom.formatted(1));
    assertThat(deny.getPoliciesOrThrow(custom.formatted(0)))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [{"orRules": {"rules": [
                   {"urlPath": {"path": {"prefix": "/admin/"}}}]}}]}}],
                 "principals": [{"andIds": {"ids": [{"any": true}]}}]}
                """));
    assertThat(deny.getPoliciesOrThrow(custom.formatted(1)).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [%s]}},
                  {"orIds": {"ids": [
                    {"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/guests/.*"}}}}]}}]}}
                """
                    .formatted(token(ANY, ANY))));
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/ext-authz: spec.provider.name: \"opa\": no such"
                + " envoyExtAuthzHttp or envoyExtAuthzGrpc provider in the mesh config's"
                + " extensionProviders (it has []); its rules are enforced as DENY rules");
  }

  @Test
  void customPolicy_forProxylessServers_isTheSameDenyFilter() {
    String custom =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ext-authz, namespace: shop}
        spec:
          action: CUSTOM
          provider: {name: opa}
          rules: [{to: [{operation: {paths: [/shop.Reviews/Delete]}}]}]
        """;

    assertThat(grpc(custom))
        .isEqualTo(envoy(custom))
        .extracting(HttpFilter::getName)
        .containsExactly(DENY_FILTER);
  }

  @Test
  void customPolicy_dryRunOrWithoutRules_isSkipped() {
    List<HttpFilter> filters =
        AuthorizationFilters.httpFilters(
            List.of(
                entry(
                    """
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata:
                      name: ext-authz
                      namespace: shop
                      annotations: {istio.io/dry-run: "true"}
                    spec:
                      action: CUSTOM
                      provider: {name: opa}
                      rules: [{}]
                    """),
                unvalidated(
                    """
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata: {name: ext-nothing, namespace: shop}
                    spec: {action: CUSTOM, provider: {name: opa}}
                    """)),
            "cluster.local",
            false,
            warnings::add);

    assertThat(filters).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/ext-authz: metadata.annotations[istio.io/dry-run]: CUSTOM"
                + " policies are not dry run (expected: no dry-run annotation); policy skipped",
            "AuthorizationPolicy shop/ext-nothing: spec.rules: a CUSTOM policy without rules"
                + " matches nothing; policy skipped");
  }

  @Test
  void denyPolicyWithoutRules_isSkippedWithAWarning() {
    ConfigEntry denyNothing =
        unvalidated(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec: {action: DENY}
            """);

    assertThat(
            AuthorizationFilters.httpFilters(
                List.of(denyNothing), "cluster.local", false, warnings::add))
        .isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules: a DENY policy without rules matches"
                + " nothing; policy skipped");
  }

  @Test
  void requestPrincipals_matchIssuerAndSubjectOfTheVerifiedToken_asIstioSplitsThem() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from:
                    - source:
                        requestPrincipals: ["https://id.example.com/alice", "https://id.example.com/*", "*/bob", "*"]
                        notRequestPrincipals: ["https://id.example.com/mallory"]
                """));

    assertThat(onlyPolicy(filter).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [
                    %s, %s, %s, %s]}},
                  {"notId": {"orIds": {"ids": [%s]}}}
                ]}}
                """
                    .formatted(
                        token("{\"exact\": \"https://id.example.com\"}", "{\"exact\": \"alice\"}"),
                        token("{\"exact\": \"https://id.example.com\"}", ANY),
                        token(ANY, "{\"exact\": \"bob\"}"),
                        token(ANY, ANY),
                        token(
                            "{\"exact\": \"https://id.example.com\"}",
                            "{\"exact\": \"mallory\"}"))));
    assertThat(warnings).isEmpty();
  }

  @Test
  void requestAuthConditions_matchTheVerifiedPayload_claimsAsValuesOrListMembers() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - when:
                    - {key: "request.auth.claims[groups]", values: [admins]}
                    - {key: "request.auth.claims[org][team]", values: ["pay*"]}
                    - {key: "request.auth.audiences", notValues: [internal]}
                    - {key: "request.auth.presenter", values: [web-app]}
                    - {key: "request.auth.principal", values: ["https://id.example.com/alice"]}
                """));

    assertThat(onlyPolicy(filter).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [%s]}},
                  {"orIds": {"ids": [%s]}},
                  {"notId": {"orIds": {"ids": [%s]}}},
                  {"orIds": {"ids": [%s]}},
                  {"orIds": {"ids": [%s]}}
                ]}}
                """
                    .formatted(
                        claim("[{\"key\": \"groups\"}]", "{\"exact\": \"admins\"}"),
                        claim("[{\"key\": \"org\"}, {\"key\": \"team\"}]", "{\"prefix\": \"pay\"}"),
                        claim("[{\"key\": \"aud\"}]", "{\"exact\": \"internal\"}"),
                        claim("[{\"key\": \"azp\"}]", "{\"exact\": \"web-app\"}"),
                        token(
                            "{\"exact\": \"https://id.example.com\"}", "{\"exact\": \"alice\"}"))));
    assertThat(warnings).isEmpty();
  }

  @Test
  void trustDomains_matchThePeerIdentitysTrustDomain() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from: [{source: {trustDomains: [partner.example], notTrustDomains: [old.example]}}]
                """));

    assertThat(onlyPolicy(filter).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [
                  {"orIds": {"ids": [
                    {"authenticated": {"principalName": {"prefix": "spiffe://partner.example/"}}}]}},
                  {"notId": {"orIds": {"ids": [
                    {"authenticated": {"principalName": {"prefix": "spiffe://old.example/"}}}]}}}
                ]}}
                """));
    assertThat(warnings).isEmpty();
  }

  @Test
  void requestAuthentication_onGrpcServers_allowRuleLeftOut_denyConditionWidened() {
    String policy =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews, namespace: shop}
        spec:
          action: %s
          rules:
          - from: [{source: {requestPrincipals: ["*"], namespaces: [frontend]}}]
            when: [{key: "request.auth.claims[groups]", values: [admins]}]
        """;

    HttpFilter allow = single(grpc(policy.formatted("ALLOW")));
    assertThat(rules(allow).getPoliciesMap()).as("never silently allowed").isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].values: a JWT attribute,"
                + " which gRPC servers cannot verify (grpc-xds has no JWT filter); ALLOW rule "
                + RULE_0
                + " left out, so it allows less");

    warnings.clear();
    HttpFilter deny = single(grpc(policy.formatted("DENY")));
    assertThat(onlyPolicy(deny).getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [{"orIds": {"ids": [
                  {"authenticated": {"principalName": {"safeRegex": {"regex": ".*/ns/frontend/.*"}}}}]}}]}}
                """));
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].values: a JWT attribute, which"
                + " gRPC servers cannot verify (grpc-xds has no JWT filter); ignored, so the DENY"
                + " rule matches more requests",
            "AuthorizationPolicy shop/reviews: spec.rules[0].from[0].source.requestPrincipals: a"
                + " JWT attribute, which gRPC servers cannot verify (grpc-xds has no JWT filter);"
                + " ignored, so the DENY rule matches more requests");
  }

  @Test
  void malformedClaimKey_isReported_andResolvedTowardDenying() {
    ConfigEntry allow =
        unvalidated(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec:
              rules: [{when: [{key: "request.auth.claims.groups", values: [admins]}]}]
            """);

    HttpFilter filter =
        single(
            AuthorizationFilters.httpFilters(
                List.of(allow), "cluster.local", false, warnings::add));

    assertThat(rules(filter).getPoliciesMap()).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].key:"
                + " \"request.auth.claims.groups\": not a claim key (expected:"
                + " request.auth.claims[name], or [outer][inner] for a nested claim); ALLOW rule "
                + RULE_0
                + " left out, so it allows less");
  }

  private static final String ANY = "{\"safeRegex\": {\"regex\": \".+\"}}";

  /** Istio's matcher of a request principal: the token's issuer and subject. */
  private static String token(String issuer, String subject) {
    return """
        {"andIds": {"ids": [
          {"metadata": {"filter": "envoy.filters.http.jwt_authn",
            "path": [{"key": "payload"}, {"key": "iss"}], "value": {"stringMatch": %s}}},
          {"metadata": {"filter": "envoy.filters.http.jwt_authn",
            "path": [{"key": "payload"}, {"key": "sub"}], "value": {"stringMatch": %s}}}]}}
        """
        .formatted(issuer, subject);
  }

  /** Istio's matcher of a claim: the value itself, or a member of a list. */
  private static String claim(String path, String value) {
    return """
        {"metadata": {"filter": "envoy.filters.http.jwt_authn",
          "path": [{"key": "payload"}, %s],
          "value": {"orMatch": {"valueMatchers": [
            {"listMatch": {"oneOf": {"stringMatch": %s}}},
            {"stringMatch": %s}]}}}}
        """
        .formatted(path.substring(1, path.length() - 1), value, value);
  }

  @Test
  void unknownConditionKey_isReported_andResolvedTowardDenying() {
    ConfigEntry allow =
        unvalidated(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec:
              rules: [{when: [{key: source.planet, values: [mars]}]}]
            """);

    List<HttpFilter> filters =
        AuthorizationFilters.httpFilters(List.of(allow), "cluster.local", false, warnings::add);

    assertThat(rules(single(filters)).getPoliciesMap()).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].key: \"source.planet\": not a"
                + " supported condition key; ALLOW rule "
                + RULE_0
                + " left out, so it allows less");
  }

  @Test
  void unsupportedValues_dropTheDenyField_butOnlyThemselvesFromNotValues() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  action: DENY
                  rules:
                  - to:
                    - operation:
                        methods: [POST]
                        paths: [/a, "/api/{*}/admin"]
                        notPaths: [/public, "/{**}/health"]
                """));

    assertThat(onlyPolicy(filter).getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [
                  {"orRules": {"rules": [{"header": {"name": ":method", "stringMatch": {"exact": "POST"}}}]}},
                  {"notRule": {"orRules": {"rules": [{"urlPath": {"path": {"exact": "/public"}}}]}}}]}}
                """));
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.paths: \"/api/{*}/admin\":"
                + " path templates ({*}, {**}) are not supported; ignored, so the DENY rule matches"
                + " more requests",
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.notPaths[1]:"
                + " \"/{**}/health\": path templates ({*}, {**}) are not supported; ignored, so the"
                + " DENY rule matches more requests");
  }

  @Test
  void dryRunPolicy_isAShadowRuleForEnvoy_andLeftOutForGrpc() {
    String dryRun =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: reviews
          namespace: shop
          annotations: {istio.io/dry-run: "true"}
        spec:
          action: DENY
          rules: [{to: [{operation: {paths: [/admin]}}]}]
        """;

    HttpFilter filter = single(envoy(dryRun));
    var rbac = httpRbac(filter);
    assertThat(rbac.hasRules()).isFalse();
    assertThat(rbac.getShadowRules().getPoliciesMap()).containsOnlyKeys(RULE_0);
    assertThat(rbac.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_deny_");

    assertThat(grpc(dryRun)).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: metadata.annotations[istio.io/dry-run]: gRPC servers"
                + " have no dry run; policy skipped");
  }

  @Test
  void proxyless_sniAndGrpcHeaders_cannotBeMatched_andAreResolvedTowardDenying() {
    String policy =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews, namespace: shop}
        spec:
          action: %s
          rules:
          - to: [{operation: {paths: [/shop.Reviews/*]}}]
            when:
            - {key: connection.sni, values: [reviews.shop]}
            - {key: "request.headers[grpc-timeout]", values: ["*"]}
        """;

    assertThat(rules(single(grpc(policy.formatted("ALLOW")))).getPoliciesMap()).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].key: \"connection.sni\": gRPC"
                + " servers match SNI against an empty name; ALLOW rule "
                + RULE_0
                + " left out, so it allows less");

    warnings.clear();
    assertThat(onlyPolicy(single(grpc(policy.formatted("DENY")))))
        .isEqualTo(
            policy(
                """
                {"permissions": [{"andRules": {"rules": [{"orRules": {"rules": [
                   {"urlPath": {"path": {"prefix": "/shop.Reviews/"}}}]}}]}}],
                 "principals": [{"andIds": {"ids": [{"any": true}]}}]}
                """));
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[0].key: \"connection.sni\": gRPC"
                + " servers match SNI against an empty name; ignored, so the DENY rule matches more"
                + " requests",
            "AuthorizationPolicy shop/reviews: spec.rules[0].when[1].key:"
                + " \"request.headers[grpc-timeout]\": gRPC servers cannot match this header;"
                + " ignored, so the DENY rule matches more requests");
  }

  @Test
  void envoy_matchesSniAndAnyHeader() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - when:
                    - {key: connection.sni, values: ["*.shop.svc.cluster.local"]}
                    - {key: "request.headers[grpc-timeout]", values: ["*"]}
                """));

    Policy policy = onlyPolicy(filter);
    assertThat(policy.getPermissionsList())
        .containsExactly(
            permission(
                """
                {"andRules": {"rules": [{"orRules": {"rules": [
                  {"requestedServerName": {"suffix": ".shop.svc.cluster.local"}}]}}]}}
                """));
    assertThat(policy.getPrincipalsList())
        .containsExactly(
            principal(
                """
                {"andIds": {"ids": [{"orIds": {"ids": [
                  {"header": {"name": "grpc-timeout", "presentMatch": true}}]}}]}}
                """));
    assertThat(warnings).isEmpty();
  }

  @Test
  void wildcardInTheMiddle_isNotIstioSyntax_andIsReported() {
    HttpFilter filter =
        single(
            envoy(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: reviews, namespace: shop}
                spec:
                  rules:
                  - from: [{source: {principals: [cluster.local/ns/*/sa/web]}}]
                """));

    assertThat(rules(filter).getPoliciesMap()).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/reviews: spec.rules[0].from[0].source.principals:"
                + " \"cluster.local/ns/*/sa/web\": '*' only works alone, as a prefix (*abc) or as a"
                + " suffix (abc*); ALLOW rule "
                + RULE_0
                + " left out, so it allows less");
  }

  @Test
  void proxylessFilters_areTheSameRbac_forWhatGrpcSupports() {
    String policy =
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews, namespace: shop}
        spec:
          rules:
          - from: [{source: {namespaces: [frontend], ipBlocks: [10.0.0.0/8]}}]
            to: [{operation: {hosts: [reviews], methods: [POST], paths: [/shop.Reviews/*], ports: ["9080"]}}]
            when: [{key: "request.headers[x-tenant]", values: [acme]}]
        """;

    assertThat(grpc(policy)).isEqualTo(envoy(policy));
    assertThat(warnings).isEmpty();
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private List<HttpFilter> envoy(String... documents) {
    return AuthorizationFilters.httpFilters(
        entries(documents), "cluster.local", false, warnings::add);
  }

  private List<HttpFilter> grpc(String... documents) {
    return AuthorizationFilters.httpFilters(
        entries(documents), "cluster.local", true, warnings::add);
  }

  private static List<ConfigEntry> entries(String... documents) {
    return Arrays.stream(documents).map(AuthorizationFiltersTest::entry).toList();
  }

  /** An Istio object as Bosun would store it: it must pass Bosun's own validation first. */
  static ConfigEntry entry(String yaml) {
    JsonNode document = Yaml.doc(yaml);
    assertThat(ConfigValidator.validate(document).messages()).as("test input").isEmpty();
    return unvalidated(yaml);
  }

  /** For inputs validation would reject, to see that the translator still fails safe. */
  static ConfigEntry unvalidated(String yaml) {
    JsonNode document = Yaml.doc(yaml);
    JsonNode metadata = document.path("metadata");
    IstioKind kind =
        IstioKind.of(document.path("apiVersion").asText(), document.path("kind").asText())
            .orElseThrow();
    ConfigKey key =
        new ConfigKey(kind, metadata.path("namespace").asText(), metadata.path("name").asText());
    Object spec = IstioJson.json().convertValue(document.path("spec"), kind.specClass());
    return new ConfigEntry(key, spec, Instant.EPOCH, Map.of(), "1", document);
  }

  private static HttpFilter single(List<HttpFilter> filters) {
    assertThat(filters).hasSize(1);
    return filters.get(0);
  }

  /** The filter's config; every generated one must pass Envoy's own constraints. */
  static io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC httpRbac(HttpFilter filter) {
    try {
      var rbac =
          filter
              .getTypedConfig()
              .unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
      assertThat(VALIDATOR.check(rbac)).as("Envoy's constraints").isEmpty();
      return rbac;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static RBAC rules(HttpFilter filter) {
    return httpRbac(filter).getRules();
  }

  private static Policy onlyPolicy(HttpFilter filter) {
    Map<String, Policy> policies = rules(filter).getPoliciesMap();
    assertThat(policies).containsOnlyKeys(RULE_0);
    return policies.get(RULE_0);
  }

  private static RBAC rbac(String json) {
    return parse(json, RBAC.newBuilder()).build();
  }

  private static Policy policy(String json) {
    return parse(json, Policy.newBuilder()).build();
  }

  private static io.envoyproxy.envoy.config.rbac.v3.Permission permission(String json) {
    return parse(json, io.envoyproxy.envoy.config.rbac.v3.Permission.newBuilder()).build();
  }

  private static io.envoyproxy.envoy.config.rbac.v3.Principal principal(String json) {
    return parse(json, io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder()).build();
  }

  private static <B extends com.google.protobuf.Message.Builder> B parse(String json, B builder) {
    try {
      JsonFormat.parser().merge(json, builder);
      return builder;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("expected config does not parse: " + json, e);
    }
  }
}
