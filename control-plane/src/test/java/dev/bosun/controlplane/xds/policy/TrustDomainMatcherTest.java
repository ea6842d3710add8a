package dev.bosun.controlplane.xds.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import org.junit.jupiter.api.Test;

/** {@code source.trustDomain} as istiod matches it against the peer's SPIFFE id. */
class TrustDomainMatcherTest {
  private static boolean matches(String value, String principal) {
    var matcher = RbacMatchers.trustDomain(value).getAuthenticated().getPrincipalName();
    return switch (matcher.getMatchPatternCase()) {
      case PREFIX -> principal.startsWith(matcher.getPrefix());
      case SAFE_REGEX -> Pattern.matches(matcher.getSafeRegex().getRegex(), principal);
      default -> throw new AssertionError(matcher);
    };
  }

  @Test
  void exact_wildcardEnds_andAny() {
    String local = "spiffe://cluster.local/ns/shop/sa/web";
    String corp = "spiffe://east.corp/ns/shop/sa/web";
    assertThat(matches("cluster.local", local)).isTrue();
    assertThat(matches("cluster.local", "spiffe://cluster.localhost/ns/shop/sa/web"))
        .as("the trust domain ends at the slash")
        .isFalse();
    assertThat(matches("*.corp", corp)).isTrue();
    assertThat(matches("*.corp", local)).isFalse();
    assertThat(matches("east.*", corp)).isTrue();
    assertThat(matches("*", local)).isTrue();
    assertThat(matches("*", "not-spiffe")).isFalse();
  }
}
