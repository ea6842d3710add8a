package dev.bosun.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** exportTo, host patterns and label selectors, read as Istio reads them. */
class ConfigValuesTest {
  @Test
  void exportTo_dotIsTheOwnersNamespace_starAndNothingAreEveryone_tildeNoOne() {
    assertThat(ExportTo.of("shop", null).visibleFrom("any")).isTrue();
    assertThat(ExportTo.of("shop", List.of("*")).visibleFrom("any")).isTrue();
    assertThat(ExportTo.of("shop", List.of(".")).visibleFrom("shop")).isTrue();
    assertThat(ExportTo.of("shop", List.of(".")).visibleFrom("demo")).isFalse();
    assertThat(ExportTo.of("shop", List.of(".", "demo")).visibleFrom("demo")).isTrue();
    assertThat(ExportTo.of("shop", List.of("~")).visibleFrom("shop")).isFalse();

    assertThat(ExportTo.of("shop", List.of("*")).audience()).isEmpty();
    assertThat(ExportTo.of("shop", List.of(".", "demo", "~")).audience())
        .contains(Set.of("shop", "demo"));
  }

  @Test
  void hostPattern_matchesExactWildcardSuffixAndStar() {
    assertThat(HostPattern.matches("a.example.com", "a.example.com")).isTrue();
    assertThat(HostPattern.matches("a.example.com", "b.example.com")).isFalse();
    assertThat(HostPattern.matches("*.example.com", "a.b.example.com")).isTrue();
    assertThat(HostPattern.matches("*.example.com", "example.com")).isFalse();
    assertThat(HostPattern.matches("*", "anything")).isTrue();
    assertThat(HostPattern.overlap("a.example.com", "*.example.com")).isTrue();
    assertThat(HostPattern.overlap("a.example.com", "*.example.org")).isFalse();
  }

  @Test
  void labelSelector_needsEveryLabelWithItsValue() {
    Map<String, String> labels = Map.of("app", "echo", "version", "v1");

    assertThat(LabelSelector.selects(Map.of(), labels)).isTrue();
    assertThat(LabelSelector.selects(Map.of("app", "echo"), labels)).isTrue();
    assertThat(LabelSelector.selects(Map.of("app", "echo", "version", "v2"), labels)).isFalse();
    assertThat(LabelSelector.selects(Map.of("tier", "web"), labels)).isFalse();
  }
}
