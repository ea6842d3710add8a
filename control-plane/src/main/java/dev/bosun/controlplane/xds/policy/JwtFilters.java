package dev.bosun.controlplane.xds.policy;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.JwksSource;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.fabric8.istio.api.api.security.v1beta1.ClaimToHeader;
import io.fabric8.istio.api.api.security.v1beta1.JWTHeader;
import io.fabric8.istio.api.api.security.v1beta1.JWTRule;
import io.fabric8.istio.api.api.security.v1beta1.RequestAuthentication;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * RequestAuthentications as Envoy's JWT filter ({@code envoy.filters.http.jwt_authn}), for sidecar
 * inbound HTTP chains and gateway HTTP chains, as istiod builds it: one provider per JWT rule
 * ({@code origins-<i>}, rules sorted by issuer), a request with a token that no provider verifies
 * is refused with 401, a request without a token passes on to authorization, and a verified token's
 * payload is left in the filter's dynamic metadata under {@code payload}, where the RBAC rules of
 * {@link RbacPolicyBuilder} read the principal and the claims.
 */
public final class JwtFilters {
  /** The filter's name, which is also the namespace of the metadata it writes. */
  public static final String FILTER = "envoy.filters.http.jwt_authn";

  /** The key of the verified payload in the filter's metadata. */
  static final String PAYLOAD = "payload";

  /** Claims always split on spaces before RBAC matches them (istiod's two). */
  private static final List<String> SPACE_DELIMITED = List.of("permission", "scope");

  private static final EnvoyValidator VALIDATOR = EnvoyValidator.shared();

  private JwtFilters() {}

  /**
   * The JWT filter for a workload or gateway, or empty when no RequestAuthentication applies.
   *
   * @param policies the RequestAuthentications that apply, from {@code ConfigIndex.policies}
   * @param jwks the fetched signing keys by source; a rule whose keys are not known gets {@link
   *     JwksSource#FAIL_CLOSED_JWKS}, so its tokens are refused until they are
   * @param clearRouteCache true for gateways (routes may match on claims), false for sidecars
   * @param warnings one line per rule left out
   */
  public static Optional<HttpFilter> filter(
      List<ConfigEntry> policies,
      Map<JwksSource, String> jwks,
      boolean clearRouteCache,
      Consumer<String> warnings) {
    requireNonNull(jwks, "jwks");
    List<Located> rules = new ArrayList<>();
    for (ConfigEntry entry : policies) {
      List<JWTRule> jwtRules = list(entry.spec(RequestAuthentication.class).getJwtRules());
      for (int i = 0; i < jwtRules.size(); i++) {
        if (jwtRules.get(i) != null) {
          rules.add(new Located(entry, i, jwtRules.get(i)));
        }
      }
    }
    if (rules.isEmpty()) {
      return Optional.empty();
    }
    rules.sort(Comparator.comparing(rule -> text(rule.rule().getIssuer())));
    JwtAuthentication.Builder config = JwtAuthentication.newBuilder().setBypassCorsPreflight(true);
    List<String> names = new ArrayList<>();
    for (Located rule : rules) {
      String keys = text(rule.rule().getJwks());
      if (keys.isEmpty()) {
        JwksSource source = JwksSource.of(rule.rule());
        keys = jwks.get(source);
        if (keys == null) {
          warnings.accept(
              "%s: spec.jwtRules[%d]: no keys fetched from %s yet; tokens of issuer \"%s\" are"
                      .formatted(rule.entry().key(), rule.index(), source, source.issuer())
                  + " refused until they are (the fetch errors are logged)");
          keys = JwksSource.FAIL_CLOSED_JWKS;
        }
      }
      JwtProvider provider = provider(rule.rule(), keys, clearRouteCache);
      Optional<String> problem = VALIDATOR.check(provider);
      if (problem.isPresent()) {
        // Its tokens then match no provider and are refused: leaving it out fails closed.
        warnings.accept(
            "%s: spec.jwtRules[%d]: generated JWT provider is invalid (%s); rule left out, so"
                    .formatted(rule.entry().key(), rule.index(), problem.get())
                + " tokens of issuer \""
                + text(rule.rule().getIssuer())
                + "\" are refused");
        continue;
      }
      String name = "origins-" + names.size();
      names.add(name);
      config.putProviders(name, provider);
    }
    if (names.isEmpty()) {
      // Every rule was left out: any token is refused, requests without one pass, as with no keys.
      JwtProvider none =
          JwtProvider.newBuilder()
              .setLocalJwks(DataSource.newBuilder().setInlineString(JwksSource.FAIL_CLOSED_JWKS))
              .setPayloadInMetadata(PAYLOAD)
              .build();
      config.putProviders("origins-0", none);
      names.add("origins-0");
    }
    config.addRules(
        RequirementRule.newBuilder()
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRequires(requirement(names)));
    return Optional.of(
        HttpFilter.newBuilder().setName(FILTER).setTypedConfig(Any.pack(config.build())).build());
  }

  /**
   * What a request must satisfy: with one provider, its token or none; with several, any one
   * provider, or every provider's token-or-none (a token present must verify, even when several
   * providers read the same header).
   */
  private static JwtRequirement requirement(List<String> names) {
    List<JwtRequirement> each = new ArrayList<>();
    List<JwtRequirement> any = new ArrayList<>();
    for (String name : names) {
      JwtRequirement provider = JwtRequirement.newBuilder().setProviderName(name).build();
      any.add(provider);
      each.add(
          JwtRequirement.newBuilder()
              .setRequiresAny(
                  JwtRequirementOrList.newBuilder()
                      .addRequirements(provider)
                      .addRequirements(
                          JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance())))
              .build());
    }
    if (each.size() == 1) {
      return each.get(0);
    }
    any.add(
        JwtRequirement.newBuilder()
            .setRequiresAll(JwtRequirementAndList.newBuilder().addAllRequirements(each))
            .build());
    return JwtRequirement.newBuilder()
        .setRequiresAny(JwtRequirementOrList.newBuilder().addAllRequirements(any))
        .build();
  }

  private static JwtProvider provider(JWTRule rule, String keys, boolean clearRouteCache) {
    TreeSet<String> spaceDelimited = new TreeSet<>(SPACE_DELIMITED);
    spaceDelimited.addAll(list(rule.getSpaceDelimitedClaims()));
    JwtProvider.Builder provider =
        JwtProvider.newBuilder()
            .setIssuer(text(rule.getIssuer()))
            .addAllAudiences(list(rule.getAudiences()))
            .setForward(Boolean.TRUE.equals(rule.getForwardOriginalToken()))
            .setForwardPayloadHeader(text(rule.getOutputPayloadToHeader()))
            .setPayloadInMetadata(PAYLOAD)
            .setNormalizePayloadInMetadata(
                JwtProvider.NormalizePayload.newBuilder()
                    .addAllSpaceDelimitedClaims(spaceDelimited))
            .setClearRouteCache(clearRouteCache)
            .addAllFromParams(list(rule.getFromParams()))
            .addAllFromCookies(list(rule.getFromCookies()));
    for (ClaimToHeader claim : list(rule.getOutputClaimToHeaders())) {
      if (claim != null) {
        provider.addClaimToHeaders(
            JwtClaimToHeader.newBuilder()
                .setHeaderName(text(claim.getHeader()))
                .setClaimName(text(claim.getClaim())));
      }
    }
    for (JWTHeader header : list(rule.getFromHeaders())) {
      if (header != null) {
        provider.addFromHeaders(
            JwtHeader.newBuilder()
                .setName(text(header.getName()))
                .setValuePrefix(text(header.getPrefix())));
      }
    }
    provider.setLocalJwks(DataSource.newBuilder().setInlineString(keys));
    return provider.build();
  }

  private record Located(ConfigEntry entry, int index, JWTRule rule) {}

  private static String text(String value) {
    return value == null ? "" : value;
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }
}
