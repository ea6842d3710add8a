package dev.bosun.controlplane.config;

import static dev.bosun.controlplane.Yaml.doc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ConfigStoreTest {
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ConfigStore store = new ConfigStore(meters);
  private final ConfigKey reviews = new ConfigKey(IstioKind.VIRTUAL_SERVICE, "shop", "reviews");

  private static String vs(String timeout) {
    return """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: reviews, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews}
            timeout: %s
        """
        .formatted(timeout);
  }

  @Test
  void validObject_isStoredWithTypedSpec_anyServedVersion() {
    assertThat(store.put(doc(vs("2s")), "test")).isEqualTo(ConfigStore.Outcome.APPLIED);
    ConfigEntry entry = store.get(reviews).orElseThrow();
    assertThat(entry.spec(VirtualService.class).getHttp().get(0).getTimeout()).isEqualTo("2s");
    assertThat(entry.created()).isEqualTo(java.time.Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(store.put(doc(vs("2s")), "test")).isEqualTo(ConfigStore.Outcome.UNCHANGED);
  }

  @Test
  void invalidObject_isSkippedReportedAndCounted() {
    assertThat(store.put(doc(vs("2 seconds")), "file.yaml:1"))
        .isEqualTo(ConfigStore.Outcome.REJECTED);
    assertThat(store.get(reviews)).isEmpty();
    assertThat(store.rejected())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.key()).isEqualTo(reviews);
              assertThat(r.origin()).isEqualTo("file.yaml:1");
              assertThat(r.previousKept()).isFalse();
              assertThat(r.messages())
                  .containsExactly(
                      "VirtualService shop/reviews: spec.http[0].timeout: \"2 seconds\": invalid duration (expected: a duration such as \"1.5s\", \"300ms\", \"1m\" or \"1h\")");
            });
    assertThat(meters.get("bosun_config_rejected").tag("kind", "VirtualService").gauge().value())
        .isEqualTo(1.0);
    assertThat(
            meters.get("bosun_config_rejections").tag("kind", "VirtualService").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void invalidUpdate_keepsThePreviousValidVersion_untilFixed() {
    store.put(doc(vs("2s")), "test");
    assertThat(store.put(doc(vs("-1s")), "test")).isEqualTo(ConfigStore.Outcome.REJECTED);
    assertThat(
            store
                .get(reviews)
                .orElseThrow()
                .spec(VirtualService.class)
                .getHttp()
                .get(0)
                .getTimeout())
        .isEqualTo("2s");
    assertThat(store.rejected())
        .singleElement()
        .satisfies(r -> assertThat(r.previousKept()).isTrue());

    assertThat(store.put(doc(vs("3s")), "test")).isEqualTo(ConfigStore.Outcome.APPLIED);
    assertThat(store.rejected()).isEmpty();
    assertThat(
            store
                .get(reviews)
                .orElseThrow()
                .spec(VirtualService.class)
                .getHttp()
                .get(0)
                .getTimeout())
        .isEqualTo("3s");
  }

  @Test
  void delete_removesObjectAndAnyRejection() {
    store.put(doc(vs("2s")), "test");
    assertThat(store.delete(reviews)).isTrue();
    assertThat(store.list(IstioKind.VIRTUAL_SERVICE)).isEmpty();
    assertThat(store.delete(reviews)).isFalse();
  }

  @Test
  void notOwnedKinds_areIgnored() {
    assertThat(store.put(doc("{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}"), "test"))
        .isEqualTo(ConfigStore.Outcome.NOT_OWNED);
  }
}
