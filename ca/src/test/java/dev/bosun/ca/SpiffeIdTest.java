package dev.bosun.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SpiffeIdTest {
  @Test
  void of_serviceAccount_istioForm() {
    assertThat(SpiffeId.of("cluster.local", "default", "frontend"))
        .isEqualTo("spiffe://cluster.local/ns/default/sa/frontend");
  }

  @Test
  void of_slashOrEmptySegment_isRefused() {
    assertThatThrownBy(() -> SpiffeId.of("cluster.local", "a/b", "frontend"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("namespace: \"a/b\" (expected: a non-empty name without '/' or spaces)");
    assertThatThrownBy(() -> SpiffeId.of("", "default", "frontend"))
        .hasMessage("trustDomain: \"\" (expected: a non-empty name without '/' or spaces)");
  }
}
