package dev.bosun.controlplane.meshconfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.meshconfig.MeshConfig.OutboundTrafficPolicy;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The mesh ConfigMap read at start and watched, on fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class MeshConfigWatcherTest {
  KubernetesMockServer server;
  KubernetesClient client;

  private final MeshConfigStore store = new MeshConfigStore(MeshConfigStore.Overrides.NONE);
  private MeshConfigWatcher watcher;

  @AfterEach
  void stop() {
    if (watcher != null) {
      watcher.close();
    }
  }

  private static ConfigMap configMap(String name, String mesh) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("istio-system")
        .endMetadata()
        .withData(Map.of(MeshConfigWatcher.KEY, mesh, "meshNetworks", "networks: {}"))
        .build();
  }

  private MeshConfigWatcher watch(String name) {
    return new MeshConfigWatcher(client, "istio-system", name, store).start();
  }

  @Test
  void start_existingConfigMap_isAppliedBeforeStartReturns() {
    client.configMaps().resource(configMap("istio", "trustDomain: corp.example")).create();
    watcher = watch("istio");
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
  }

  @Test
  void start_noConfigMap_isIstiosDefaults() {
    watcher = watch("istio");
    assertThat(store.current()).isEqualTo(MeshConfig.DEFAULTS);
    assertThat(store.status().get("source").toString()).contains("not found");
  }

  @Test
  void watch_updateThenBrokenThenDelete_appliesKeepsLastGoodThenDefaults() {
    client.configMaps().resource(configMap("istio", "connectTimeout: 2s")).create();
    watcher = watch("istio");
    client
        .configMaps()
        .resource(configMap("istio", "outboundTrafficPolicy: {mode: REGISTRY_ONLY}"))
        .update();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> store.current().outboundTrafficPolicy() == OutboundTrafficPolicy.REGISTRY_ONLY);

    client.configMaps().resource(configMap("istio", "outboundTrafficPolicy: {mode: FOO}")).update();
    await().atMost(Duration.ofSeconds(10)).until(() -> store.rejects() == 1);
    assertThat(store.current().outboundTrafficPolicy())
        .isEqualTo(OutboundTrafficPolicy.REGISTRY_ONLY);
    assertThat(store.lastError().orElseThrow())
        .startsWith("ConfigMap istio-system/istio: outboundTrafficPolicy.mode: \"FOO\"");

    client.configMaps().inNamespace("istio-system").withName("istio").delete();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> store.current().outboundTrafficPolicy() == OutboundTrafficPolicy.ALLOW_ANY);
  }

  @Test
  void watch_otherConfigMaps_areIgnored() {
    watcher = watch("istio-canary");
    client.configMaps().resource(configMap("istio", "enableAutoMtls: false")).create();
    client.configMaps().resource(configMap("istio-canary", "connectTimeout: 7s")).create();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> store.current().connectTimeout().equals(Duration.ofSeconds(7)));
    assertThat(store.current().enableAutoMtls()).isTrue();
  }

  @Test
  void configMapName_isIstiosPerRevision() {
    assertThat(MeshConfigWatcher.configMapName("")).isEqualTo("istio");
    assertThat(MeshConfigWatcher.configMapName("default")).isEqualTo("istio");
    assertThat(MeshConfigWatcher.configMapName("canary")).isEqualTo("istio-canary");
  }
}
