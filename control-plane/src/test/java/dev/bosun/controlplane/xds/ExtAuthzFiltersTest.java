package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.AuthorizationFiltersTest.entry;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.meshconfig.MeshConfigParser;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import dev.bosun.controlplane.xds.policy.ExtAuthzProviders;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * CUSTOM AuthorizationPolicies with the mesh config's ext_authz providers: the RBAC filter whose
 * shadow rules mark what to check, the provider's ext_authz filter enabled by that mark, in
 * istiod's order and with its fields, and every way a provider is unusable (then the policy denies
 * what it matches, as with istiod).
 */
class ExtAuthzFiltersTest {
  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();

  private static final String MESH =
      """
      extensionProviders:
      - name: opa
        envoyExtAuthzHttp:
          service: opa.policy.svc.cluster.local
          port: 8181
          timeout: 0.5s
          pathPrefix: /check
          failOpen: true
          statusOnError: "503"
          includeRequestHeadersInCheck: [authorization, x-ext-*]
          includeAdditionalHeadersInCheck: {x-from: mesh, x-a: first}
          headersToUpstreamOnAllow: [x-user]
          headersToDownstreamOnDeny: [content-type, "*-reason"]
          includeRequestBodyInCheck: {maxRequestBytes: 4096, allowPartialMessage: true}
      - name: authz-grpc
        envoyExtAuthzGrpc:
          service: policy/authz.policy.svc.cluster.local
          port: 9000
      - name: nowhere
        envoyExtAuthzGrpc:
          service: missing.policy.svc.cluster.local
          port: 70000
      - name: zipkin
        zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
      """;

  private static final String SERVICES =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: opa, namespace: policy}
      spec:
        ports: [{name: http, port: 8181}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: authz, namespace: policy}
      spec:
        ports: [{name: grpc, port: 9000}]
      """;

  private static final String CUSTOM =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ext, namespace: shop}
      spec:
        action: CUSTOM
        provider: {name: %s}
        rules: [{to: [{operation: {paths: [/admin/*]}}]}]
      """;

  private static final String ALLOW =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: frontend, namespace: shop}
      spec:
        rules: [{from: [{source: {namespaces: [frontend]}}]}]
      """;

  private final List<String> warnings = new ArrayList<>();
  private final ExtAuthzProviders providers = providers(MESH);

  private static ExtAuthzProviders providers(String mesh) {
    try {
      MeshSnapshot snapshot =
          TestSnapshots.of("services.yaml", SERVICES, MeshConfigParser.parse(mesh).config());
      return ExtAuthzProviders.of(snapshot);
    } catch (dev.bosun.controlplane.meshconfig.MeshConfigException e) {
      throw new AssertionError(e);
    }
  }

  private List<HttpFilter> http(String... policies) {
    List<ConfigEntry> entries = new ArrayList<>();
    for (String policy : policies) {
      entries.add(entry(policy));
    }
    List<HttpFilter> filters =
        AuthorizationFilters.httpFilters(
            entries, "cluster.local", providers, Optional.empty(), warnings::add);
    for (HttpFilter filter : filters) {
      assertThat(VALIDATOR.check(filter)).as(filter.getName()).isEmpty();
    }
    return filters;
  }

  @Test
  void httpProvider_shadowRulesMarkTheRequests_extAuthzChecksThem_beforeTheOtherFilters()
      throws Exception {
    List<HttpFilter> filters = http(CUSTOM.formatted("opa"), ALLOW);

    assertThat(filters)
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.rbac", "envoy.filters.http.ext_authz", "envoy.filters.http.rbac");
    var marks =
        filters
            .get(0)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
    assertThat(marks.hasRules()).as("never enforces").isFalse();
    assertThat(marks.getShadowRulesStatPrefix()).isEqualTo("istio_ext_authz_");
    assertThat(marks.getShadowRules().getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(marks.getShadowRules().getPoliciesMap())
        .containsOnlyKeys("istio-ext-authz-opa-ns[shop]-policy[ext]-rule[0]");
    assertThat(filters.get(1).getTypedConfig().unpack(ExtAuthz.class))
        .isEqualTo(
            parse(
                """
                {"httpService": {
                   "serverUri": {"uri": "http://opa.policy.svc.cluster.local",
                                 "cluster": "outbound|8181||opa.policy.svc.cluster.local",
                                 "timeout": "0.500s"},
                   "pathPrefix": "/check",
                   "authorizationRequest": {"headersToAdd": [
                     {"key": "x-a", "value": "first"}, {"key": "x-from", "value": "mesh"}]},
                   "authorizationResponse": {
                     "allowedUpstreamHeaders": {"patterns": [{"exact": "x-user", "ignoreCase": true}]},
                     "allowedClientHeaders": {"patterns": [
                       {"exact": "content-type", "ignoreCase": true},
                       {"suffix": "-reason", "ignoreCase": true}]}}},
                 "failureModeAllow": true,
                 "withRequestBody": {"maxRequestBytes": 4096, "allowPartialMessage": true},
                 "statusOnError": {"code": "ServiceUnavailable"},
                 "transportApiVersion": "V3",
                 "filterEnabledMetadata": {
                   "filter": "envoy.filters.http.rbac",
                   "path": [{"key": "istio_ext_authz_shadow_effective_policy_id"}],
                   "value": {"stringMatch": {"prefix": "istio-ext-authz-opa"}}},
                 "allowedHeaders": {"patterns": [
                   {"exact": "authorization", "ignoreCase": true},
                   {"prefix": "x-ext-", "ignoreCase": true}]}}
                """,
                ExtAuthz.newBuilder()));
    assertThat(warnings).isEmpty();
  }

  @Test
  void jwtFilter_comesAfterTheCustomCheck_andBeforeRbac() {
    HttpFilter jwt = HttpFilter.newBuilder().setName("envoy.filters.http.jwt_authn").build();

    List<HttpFilter> filters =
        AuthorizationFilters.httpFilters(
            List.of(entry(CUSTOM.formatted("opa")), entry(ALLOW)),
            "cluster.local",
            providers,
            Optional.of(jwt),
            warnings::add);

    assertThat(filters)
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.rbac",
            "envoy.filters.http.ext_authz",
            "envoy.filters.http.jwt_authn",
            "envoy.filters.http.rbac");
  }

  @Test
  void grpcProvider_checksTcpConnectionsToo_httpProviderIsLeftOffTcpChains() throws Exception {
    List<Filter> grpc =
        AuthorizationFilters.networkFilters(
            List.of(
                entry(
                    CUSTOM
                        .formatted("authz-grpc")
                        .replace(
                            "[{to: [{operation: {paths: [/admin/*]}}]}]",
                            "[{from: [{source: {namespaces: [guests]}}]}]"))),
            "cluster.local",
            providers,
            warnings::add);

    assertThat(grpc)
        .extracting(Filter::getName)
        .containsExactly("envoy.filters.network.rbac", "envoy.filters.network.ext_authz");
    var tcp =
        grpc.get(1)
            .getTypedConfig()
            .unpack(io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.class);
    assertThat(VALIDATOR.check(tcp)).isEmpty();
    assertThat(tcp.getStatPrefix()).isEqualTo("tcp.");
    assertThat(tcp.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo("outbound|9000||authz.policy.svc.cluster.local");
    assertThat(tcp.getGrpcService().getEnvoyGrpc().getAuthority())
        .isEqualTo("authz.policy.svc.cluster.local");
    assertThat(tcp.getGrpcService().getTimeout().getSeconds())
        .as("istiod's default")
        .isEqualTo(600);
    assertThat(tcp.getFilterEnabledMetadata().getFilter()).isEqualTo("envoy.filters.network.rbac");
    assertThat(warnings).isEmpty();

    List<Filter> http =
        AuthorizationFilters.networkFilters(
            List.of(entry(CUSTOM.formatted("opa"))), "cluster.local", providers, warnings::add);
    assertThat(http).isEmpty();
    assertThat(warnings)
        .containsExactly(
            "AuthorizationPolicy shop/ext: spec.provider.name: \"opa\" is an HTTP provider, which"
                + " cannot check TCP connections (as with istiod, the policy is not applied to"
                + " them); policy skipped");
  }

  @Test
  void unusableProviders_makeThePolicyDenyWhatItMatches_saying_why() {
    assertThat(denied(CUSTOM.formatted("missing")))
        .isEqualTo(
            "AuthorizationPolicy shop/ext: spec.provider.name: \"missing\": no such"
                + " envoyExtAuthzHttp or envoyExtAuthzGrpc provider in the mesh config's"
                + " extensionProviders (it has [authz-grpc, nowhere, opa]); its rules are enforced"
                + " as DENY rules");
    assertThat(denied(CUSTOM.formatted("nowhere")))
        .isEqualTo(
            "AuthorizationPolicy shop/ext: spec.provider.name: \"nowhere\": the provider cannot be"
                + " used: port 70000 is not in 1-65535; could not find service"
                + " missing.policy.svc.cluster.local in the service registry; its rules are"
                + " enforced as DENY rules");
  }

  @Test
  void twoProvidersForOneWorkload_bothDeny_asIstiodsDefault() {
    List<HttpFilter> filters =
        http(
            CUSTOM.formatted("opa"),
            CUSTOM.formatted("authz-grpc").replace("name: ext,", "name: ext2,"));

    assertThat(filters)
        .extracting(HttpFilter::getName)
        .containsExactly("envoy.filters.http.rbac.DENY");
    assertThat(warnings)
        .hasSize(2)
        .allMatch(w -> w.contains("one workload's CUSTOM policies may name one provider"));
  }

  @Test
  void providerEnvoyWouldRefuse_isUnusable() {
    ExtAuthzProviders zeroBody =
        providers(
            """
            extensionProviders:
            - name: opa
              envoyExtAuthzHttp:
                service: opa.policy.svc.cluster.local
                port: 8181
                includeRequestBodyInCheck: {maxRequestBytes: 0}
            """);

    AuthorizationFilters.httpFilters(
        List.of(entry(CUSTOM.formatted("opa"))),
        "cluster.local",
        zeroBody,
        Optional.empty(),
        warnings::add);

    assertThat(warnings)
        .singleElement()
        .asString()
        .contains("the provider cannot be used: its ext_authz filter would be refused by Envoy")
        .contains("max_request_bytes");
  }

  /** The one warning of a CUSTOM policy whose provider is unusable; its rule must deny. */
  private String denied(String policy) {
    warnings.clear();
    List<HttpFilter> filters = http(policy);
    assertThat(filters)
        .extracting(HttpFilter::getName)
        .containsExactly("envoy.filters.http.rbac.DENY");
    assertThat(
            AuthorizationFiltersTest.httpRbac(filters.get(0)).getRules().getPoliciesMap().keySet())
        .singleElement()
        .asString()
        .endsWith("-deny-due-to-bad-CUSTOM-action");
    assertThat(warnings).hasSize(1);
    return warnings.get(0);
  }

  private static <T extends Message> T parse(String json, Message.Builder builder) {
    try {
      JsonFormat.parser().merge(json, builder);
      @SuppressWarnings("unchecked")
      T built = (T) builder.build();
      return built;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
