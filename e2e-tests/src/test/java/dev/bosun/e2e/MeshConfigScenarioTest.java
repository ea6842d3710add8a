package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code bosun serve} reads its mesh ConfigMap at start, applies a good change live, keeps the last
 * good config on a broken one and says why on {@code /debug/mesh}; a given flag wins over the
 * ConfigMap. The ConfigMap has a name of its own ({@code --mesh-config-map}) in the world's own
 * Bosun namespace.
 */
@EnableKubernetesMockClient(crud = true)
class MeshConfigScenarioTest {
  private static final String NAME = "bosun-e2e-mesh";

  KubernetesClient client;
  private MeshWorld world;
  private KubernetesClient cluster;

  @AfterEach
  void stop() throws Exception {
    cluster.configMaps().inNamespace(world.caNamespace).withName(NAME).delete();
    world.close();
  }

  private ConfigMap configMap(String mesh) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(NAME)
        .withNamespace(world.caNamespace)
        .endMetadata()
        .withData(Map.of("mesh", mesh))
        .build();
  }

  private JsonNode debugMesh() throws Exception {
    return IstioJson.json().readTree(world.body("/debug/mesh"));
  }

  @Test
  void serve_readsWatchesAndKeepsTheLastGoodMeshConfig() throws Exception {
    cluster = MeshWorld.cluster(client);
    world = new MeshWorld(cluster, Files.createTempDirectory("bosun-e2e"));
    cluster
        .configMaps()
        .inNamespace(world.caNamespace)
        .resource(configMap("connectTimeout: 2s\nrootNamespace: mesh-root\n"))
        .createOr(c -> c.update());
    world.startBosun("--mesh-config-map", NAME, "--trust-domain", "cluster.local");

    JsonNode mesh = debugMesh();
    assertThat(mesh.path("source").asText())
        .isEqualTo("ConfigMap " + world.caNamespace + "/" + NAME);
    assertThat(mesh.path("config").path("connectTimeout").asText()).isEqualTo("2s");
    assertThat(mesh.path("config").path("rootNamespace").asText()).isEqualTo("mesh-root");

    cluster
        .configMaps()
        .inNamespace(world.caNamespace)
        .resource(configMap("connectTimeout: 2s\noutboundTrafficPolicy: {mode: BLOCK}\n"))
        .update();
    await().atMost(Duration.ofSeconds(30)).until(() -> !debugMesh().path("lastError").isNull());
    mesh = debugMesh();
    assertThat(mesh.path("lastError").asText())
        .contains("outboundTrafficPolicy.mode: \"BLOCK\" (expected: ALLOW_ANY or REGISTRY_ONLY)");
    assertThat(mesh.path("rejects").asLong()).isEqualTo(1);
    assertThat(mesh.path("config").path("connectTimeout").asText()).isEqualTo("2s");

    cluster
        .configMaps()
        .inNamespace(world.caNamespace)
        .resource(configMap("connectTimeout: 3s\ntrustDomain: corp.example\n"))
        .update();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> debugMesh().path("config").path("connectTimeout").asText().equals("3s"));
    mesh = debugMesh();
    assertThat(mesh.path("lastError").isNull()).isTrue();
    assertThat(mesh.path("config").path("trustDomain").asText())
        .as("--trust-domain was given, so it wins")
        .isEqualTo("cluster.local");
    assertThat(mesh.path("config").path("rootNamespace").asText())
        .as("the root namespace read at start stays until a restart")
        .isEqualTo("mesh-root");
  }
}
