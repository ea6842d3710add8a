package dev.bosun.controlplane.meshconfig;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.meshconfig.MeshConfig.OutboundTrafficPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The config in force: last good on a broken text, flags over YAML, identity fixed at start. */
class MeshConfigStoreTest {
  private final List<MeshConfig> applied = new ArrayList<>();

  private MeshConfigStore store(MeshConfigStore.Overrides overrides) {
    MeshConfigStore store = new MeshConfigStore(overrides);
    store.addListener(applied::add);
    return store;
  }

  @Test
  void update_brokenText_keepsTheLastGoodAndSaysWhy() {
    MeshConfigStore store = store(MeshConfigStore.Overrides.NONE);
    assertThat(store.update("connectTimeout: 3s", "test")).isTrue();
    assertThat(store.update("connectTimeout: soon", "ConfigMap istio-system/istio")).isFalse();
    assertThat(store.current().connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(store.rejects()).isEqualTo(1);
    assertThat(store.lastError())
        .contains(
            "ConfigMap istio-system/istio: connectTimeout: \"soon\" (expected: a duration from 1ms"
                + " to 1h, such as \"10s\" or \"500ms\")");
    assertThat(store.status()).containsEntry("rejects", 1L);
    assertThat(applied).hasSize(1);

    assertThat(store.update("connectTimeout: 4s", "test")).isTrue();
    assertThat(store.lastError()).isEmpty();
    assertThat(applied).hasSize(2);
  }

  @Test
  void update_sameConfigAgain_changesNothing() {
    MeshConfigStore store = store(MeshConfigStore.Overrides.NONE);
    assertThat(store.update("enableAutoMtls: false", "test")).isTrue();
    assertThat(store.update("enableAutoMtls: false\n", "test")).isFalse();
    assertThat(applied).hasSize(1);
  }

  @Test
  void update_noText_isIstiosDefaults() {
    MeshConfigStore store = store(MeshConfigStore.Overrides.NONE);
    store.update("outboundTrafficPolicy: {mode: REGISTRY_ONLY}", "test");
    assertThat(store.update(null, "ConfigMap istio-system/istio (deleted)")).isTrue();
    assertThat(store.current().outboundTrafficPolicy()).isEqualTo(OutboundTrafficPolicy.ALLOW_ANY);
    assertThat(store.status().get("source"))
        .isEqualTo("ConfigMap istio-system/istio (deleted): none, so Istio's defaults");
  }

  @Test
  void update_givenFlags_winOverTheYaml() {
    MeshConfigStore store =
        store(new MeshConfigStore.Overrides(Optional.of("flag-root"), Optional.of("example.org")));
    store.update("rootNamespace: yaml-root\ntrustDomain: corp.example\n", "test");
    assertThat(store.current().rootNamespace()).isEqualTo("flag-root");
    assertThat(store.current().trustDomain()).isEqualTo("example.org");
    assertThat(store.current().document().path("trustDomain").asText()).isEqualTo("example.org");
  }

  @Test
  void update_noFlags_theYamlDecides() {
    MeshConfigStore store = store(MeshConfigStore.Overrides.NONE);
    store.update("rootNamespace: yaml-root\ntrustDomain: corp.example\n", "test");
    assertThat(store.current().rootNamespace()).isEqualTo("yaml-root");
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
  }

  @Test
  void update_identityChangeAfterStart_waitsForARestartWhileTheRestApplies() {
    MeshConfigStore store = store(MeshConfigStore.Overrides.NONE);
    store.update("trustDomain: corp.example", "test");
    store.started();
    assertThat(
            store.update(
                "trustDomain: other.example\nrootNamespace: moved\nenableAutoMtls: false\n",
                "test"))
        .isTrue();
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
    assertThat(store.current().rootNamespace()).isEqualTo("istio-system");
    assertThat(store.current().enableAutoMtls()).isFalse();
  }
}
