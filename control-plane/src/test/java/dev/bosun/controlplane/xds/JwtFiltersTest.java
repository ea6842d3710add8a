package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.AuthorizationFiltersTest.entry;
import static dev.bosun.controlplane.xds.AuthorizationFiltersTest.unvalidated;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.JwksSource;
import dev.bosun.controlplane.xds.policy.JwtFilters;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RequestAuthentication to Envoy's JWT filter: each JWT rule field, the requirement istiod builds
 * (invalid tokens refused, missing ones passed on to authorization), where the keys come from, and
 * Envoy's constraints on every generated filter.
 */
class JwtFiltersTest {
  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();
  private static final String KEYS = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"}]}";

  private final List<String> warnings = new ArrayList<>();

  @Test
  void noRequestAuthentication_noFilter() {
    assertThat(JwtFilters.filter(List.of(), Map.of(), false, warnings::add)).isEmpty();
  }

  @Test
  void everyRuleField_becomesTheProvidersField() {
    JwtAuthentication config =
        config(
            JwtFilters.filter(
                    List.of(
                        entry(
                            """
                            apiVersion: security.istio.io/v1
                            kind: RequestAuthentication
                            metadata: {name: web, namespace: shop}
                            spec:
                              selector: {matchLabels: {app: web}}
                              jwtRules:
                              - issuer: https://id.example.com
                                jwksUri: https://id.example.com/keys
                                audiences: [shop, admin]
                                fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
                                fromParams: [token]
                                fromCookies: [session]
                                outputPayloadToHeader: x-jwt-payload
                                outputClaimToHeaders: [{header: x-user, claim: sub}]
                                forwardOriginalToken: true
                                spaceDelimitedClaims: [roles, scope]
                                timeout: 2s
                            """)),
                    Map.of(
                        new JwksSource("https://id.example.com", "https://id.example.com/keys"),
                        KEYS),
                    false,
                    warnings::add)
                .orElseThrow());

    assertThat(config)
        .isEqualTo(
            parse(
                """
                {"providers": {"origins-0": {
                   "issuer": "https://id.example.com",
                   "audiences": ["shop", "admin"],
                   "localJwks": {"inlineString": %s},
                   "forward": true,
                   "fromHeaders": [{"name": "x-jwt", "valuePrefix": "Bearer "}],
                   "fromParams": ["token"],
                   "fromCookies": ["session"],
                   "forwardPayloadHeader": "x-jwt-payload",
                   "payloadInMetadata": "payload",
                   "normalizePayloadInMetadata": {"spaceDelimitedClaims": ["permission", "roles", "scope"]},
                   "claimToHeaders": [{"headerName": "x-user", "claimName": "sub"}]}},
                 "rules": [{"match": {"prefix": "/"}, "requires": {"requiresAny": {"requirements": [
                   {"providerName": "origins-0"}, {"allowMissing": {}}]}}}],
                 "bypassCorsPreflight": true}
                """
                    .formatted(quoted(KEYS))));
    assertThat(warnings).isEmpty();
  }

  @Test
  void severalRules_sortedByIssuer_anyProviderOrEveryTokenPresentMustVerify() throws Exception {
    JwtAuthentication config =
        config(
            JwtFilters.filter(
                    List.of(
                        entry(
                            """
                            apiVersion: security.istio.io/v1
                            kind: RequestAuthentication
                            metadata: {name: mesh, namespace: istio-system}
                            spec:
                              jwtRules: [{issuer: "https://z.example", jwks: '{"keys":[]}'}]
                            """),
                        entry(
                            """
                            apiVersion: security.istio.io/v1
                            kind: RequestAuthentication
                            metadata: {name: web, namespace: shop}
                            spec:
                              jwtRules:
                              - {issuer: "https://b.example", jwks: '{"keys":[]}'}
                              - {issuer: "https://a.example", jwks: '{"keys":[]}'}
                            """)),
                    Map.of(),
                    true,
                    warnings::add)
                .orElseThrow());

    assertThat(config.getProvidersMap()).containsOnlyKeys("origins-0", "origins-1", "origins-2");
    assertThat(config.getProvidersOrThrow("origins-0").getIssuer()).isEqualTo("https://a.example");
    assertThat(config.getProvidersOrThrow("origins-1").getIssuer()).isEqualTo("https://b.example");
    assertThat(config.getProvidersOrThrow("origins-2").getIssuer()).isEqualTo("https://z.example");
    assertThat(config.getProvidersMap().values())
        .as("a gateway's routes may match claims")
        .allMatch(JwtProvider::getClearRouteCache);
    String eachOrMissing =
        """
        {"requiresAny": {"requirements": [{"providerName": "%s"}, {"allowMissing": {}}]}}
        """;
    assertThat(JsonFormat.printer().print(config.getRules(0).getRequires()))
        .isEqualToIgnoringWhitespace(
            print(
                """
                {"requiresAny": {"requirements": [
                  {"providerName": "origins-0"},
                  {"providerName": "origins-1"},
                  {"providerName": "origins-2"},
                  {"requiresAll": {"requirements": [%s, %s, %s]}}]}}
                """
                    .formatted(
                        eachOrMissing.formatted("origins-0"),
                        eachOrMissing.formatted("origins-1"),
                        eachOrMissing.formatted("origins-2"))));
  }

  @Test
  void keys_inlineFirst_thenFetched_elseFailClosed() {
    List<ConfigEntry> policies =
        List.of(
            entry(
                """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: web, namespace: shop}
                spec:
                  jwtRules:
                  - {issuer: "https://a.example", jwks: '{"keys":[{"kid":"inline"}]}', jwksUri: "https://a.example/keys"}
                  - {issuer: "https://b.example", jwksUri: "https://b.example/keys"}
                  - {issuer: "https://c.example"}
                  - {issuer: "https://d.example", jwks_uri: "https://d.example/keys"}
                """));
    Map<JwksSource, String> fetched =
        Map.of(
            new JwksSource("https://a.example", "https://a.example/keys"),
                "{\"keys\":[{\"kid\":\"a\"}]}",
            new JwksSource("https://b.example", "https://b.example/keys"), KEYS,
            new JwksSource("https://d.example", "https://d.example/keys"),
                "{\"keys\":[{\"kid\":\"d\"}]}");

    JwtAuthentication config =
        config(JwtFilters.filter(policies, fetched, false, warnings::add).orElseThrow());

    assertThat(keys(config, "origins-0")).isEqualTo("{\"keys\":[{\"kid\":\"inline\"}]}");
    assertThat(keys(config, "origins-1")).isEqualTo(KEYS);
    assertThat(keys(config, "origins-2"))
        .as("discovery not done yet: no token verifies")
        .isEqualTo(JwksSource.FAIL_CLOSED_JWKS);
    assertThat(keys(config, "origins-3"))
        .as("the proto spelling")
        .isEqualTo("{\"keys\":[{\"kid\":\"d\"}]}");
    assertThat(warnings)
        .containsExactly(
            "RequestAuthentication shop/web: spec.jwtRules[2]: no keys fetched from"
                + " https://c.example (OpenID discovery) yet; tokens of issuer \"https://c.example\""
                + " are refused until they are (the fetch errors are logged)");
  }

  @Test
  void providerEnvoyWouldRefuse_isLeftOut_soItsTokensAreRefused() {
    ConfigEntry bad =
        unvalidated(
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: web, namespace: shop}
            spec:
              jwtRules:
              - {issuer: "https://bad.example", jwks: '{"keys":[]}', fromHeaders: [{name: "x\\njwt"}]}
              - {issuer: "https://good.example", jwks: '{"keys":[]}'}
            """);

    JwtAuthentication config =
        config(JwtFilters.filter(List.of(bad), Map.of(), false, warnings::add).orElseThrow());

    assertThat(config.getProvidersMap()).containsOnlyKeys("origins-0");
    assertThat(config.getProvidersOrThrow("origins-0").getIssuer())
        .isEqualTo("https://good.example");
    assertThat(warnings)
        .singleElement()
        .asString()
        .startsWith(
            "RequestAuthentication shop/web: spec.jwtRules[0]: generated JWT provider is invalid (")
        .endsWith("rule left out, so tokens of issuer \"https://bad.example\" are refused")
        .contains("JwtHeader.name");
  }

  @Test
  void everyProviderLeftOut_stillRefusesTokens() {
    ConfigEntry bad =
        unvalidated(
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: web, namespace: shop}
            spec:
              jwtRules: [{issuer: "https://bad.example", jwks: '{"keys":[]}', outputPayloadToHeader: "bad\\nheader"}]
            """);

    JwtAuthentication config =
        config(JwtFilters.filter(List.of(bad), Map.of(), false, warnings::add).orElseThrow());

    assertThat(config.getProvidersMap()).containsOnlyKeys("origins-0");
    assertThat(config.getProvidersOrThrow("origins-0").getIssuer()).isEmpty();
    assertThat(keys(config, "origins-0")).isEqualTo(JwksSource.FAIL_CLOSED_JWKS);
    assertThat(warnings).hasSize(1);
  }

  @Test
  void failClosedKeys_areOnePublicRsaKey() throws Exception {
    var jwks =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(JwksSource.FAIL_CLOSED_JWKS);
    assertThat(jwks.path("keys")).hasSize(1);
    var key = jwks.path("keys").get(0);
    assertThat(key.path("kty").asText()).isEqualTo("RSA");
    assertThat(key.has("d")).as("no private part").isFalse();
    byte[] modulus = java.util.Base64.getUrlDecoder().decode(key.path("n").asText());
    assertThat(new java.math.BigInteger(1, modulus).bitLength()).isEqualTo(2048);
  }

  private static String keys(JwtAuthentication config, String provider) {
    return config.getProvidersOrThrow(provider).getLocalJwks().getInlineString();
  }

  /** The filter's config; every generated one must pass Envoy's own constraints. */
  private static JwtAuthentication config(HttpFilter filter) {
    assertThat(filter.getName()).isEqualTo("envoy.filters.http.jwt_authn");
    try {
      JwtAuthentication config = filter.getTypedConfig().unpack(JwtAuthentication.class);
      assertThat(VALIDATOR.check(config)).as("Envoy's constraints").isEmpty();
      return config;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static JwtAuthentication parse(String json) {
    try {
      JwtAuthentication.Builder builder = JwtAuthentication.newBuilder();
      JsonFormat.parser().merge(json, builder);
      return builder.build();
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static String print(String requirementJson) {
    try {
      var builder =
          io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement.newBuilder();
      JsonFormat.parser().merge(requirementJson, builder);
      return JsonFormat.printer().print(builder);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static String quoted(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
