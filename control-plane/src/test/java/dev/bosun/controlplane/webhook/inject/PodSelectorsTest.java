package dev.bosun.controlplane.webhook.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** istiod's neverInjectSelector and alwaysInjectSelector, and where they rank in the decision. */
class PodSelectorsTest {
  private static final PodSelectors DATABASES =
      PodSelectors.parse(
          "--never-inject-selector",
          """
          [{"matchLabels": {"tier": "db"}},
           {"matchExpressions": [{"key": "legacy", "operator": "Exists"}]}]
          """);
  private static final PodSelectors CANARIES =
      PodSelectors.parse(
          "--always-inject-selector",
          """
          [{"matchExpressions": [{"key": "track", "operator": "In", "values": ["canary"]},
                                 {"key": "tier", "operator": "NotIn", "values": ["batch"]}]}]
          """);

  private static Pod pod(Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .endContainer()
        .endSpec()
        .build();
  }

  @Test
  void matchLabelsAndExpressions_allMustHold() {
    assertThat(DATABASES.anyMatches(Map.of("tier", "db"))).isTrue();
    assertThat(DATABASES.anyMatches(Map.of("legacy", ""))).isTrue();
    assertThat(DATABASES.anyMatches(Map.of("tier", "web"))).isFalse();
    assertThat(CANARIES.anyMatches(Map.of("track", "canary"))).isTrue();
    assertThat(CANARIES.anyMatches(Map.of("track", "canary", "tier", "batch"))).isFalse();
    assertThat(CANARIES.anyMatches(Map.of("track", "stable"))).isFalse();
  }

  @Test
  void anEmptySelector_matchesNothing() {
    assertThat(PodSelectors.parse("f", "[{}]").anyMatches(Map.of("a", "b"))).isFalse();
    assertThat(PodSelectors.parse("f", "").anyMatches(Map.of())).isFalse();
  }

  @Test
  void never_winsOverAlways_andThePodsOwnOpinionWinsOverBoth() {
    InjectionPolicy policy = new InjectionPolicy(true, DATABASES, CANARIES);
    assertThat(policy.decide(pod(Map.of("tier", "db", "track", "canary")), "shop").inject())
        .isFalse();
    assertThat(policy.decide(pod(Map.of("tier", "db")), "shop").reason())
        .isEqualTo("the pod's labels match a neverInjectSelector");
    assertThat(
            policy
                .decide(pod(Map.of("tier", "db", "sidecar.istio.io/inject", "true")), "shop")
                .inject())
        .isTrue();
    assertThat(policy.decide(pod(Map.of("tier", "web")), "shop").inject())
        .as("no selector matches: the auto-inject policy")
        .isTrue();

    InjectionPolicy off = new InjectionPolicy(false, DATABASES, CANARIES);
    assertThat(off.decide(pod(Map.of("track", "canary")), "shop").inject()).isTrue();
    assertThat(off.decide(pod(Map.of("track", "stable")), "shop").inject()).isFalse();
  }

  @Test
  void theInjectLabel_isReadCaseInsensitively_asIstiodDoes() {
    InjectionPolicy off = new InjectionPolicy(false);
    assertThat(off.decide(pod(Map.of("sidecar.istio.io/inject", "True")), "shop").inject())
        .isTrue();
  }

  @Test
  void malformedSelectors_nameTheFieldTheValueAndTheExpectation() {
    assertThatThrownBy(() -> PodSelectors.parse("--never-inject-selector", "{\"a\": 1}"))
        .hasMessage(
            "--never-inject-selector: {\"a\": 1} (expected: a JSON list of label selectors)");
    assertThatThrownBy(
            () ->
                PodSelectors.parse(
                    "--never-inject-selector",
                    "[{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Has\"}]}]"))
        .hasMessage(
            "--never-inject-selector[0].matchExpressions[0].operator: \"Has\" (expected: In,"
                + " NotIn, Exists or DoesNotExist)");
    assertThatThrownBy(
            () ->
                PodSelectors.parse(
                    "--always-inject-selector",
                    "[{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\"}]}]"))
        .hasMessage(
            "--always-inject-selector[0].matchExpressions[0].values: [] (expected: at least one"
                + " value for In)");
  }
}
