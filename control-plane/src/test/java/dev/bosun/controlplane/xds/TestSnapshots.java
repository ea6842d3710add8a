package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.registry.ServiceRegistry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.yaml.YamlDocument;
import dev.bosun.crd.yaml.YamlDocuments;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Snapshots for generator tests, from Kubernetes and Istio YAML (several documents), built the way
 * the mesh model builds them; the root namespace is {@code istio-system}.
 */
final class TestSnapshots {
  private TestSnapshots() {}

  static MeshSnapshot of(String location, String yaml) {
    return of(location, yaml, dev.bosun.controlplane.meshconfig.MeshConfig.DEFAULTS);
  }

  /** A snapshot built with {@code meshConfig} in force. */
  static MeshSnapshot of(
      String location, String yaml, dev.bosun.controlplane.meshconfig.MeshConfig meshConfig) {
    ServiceRegistry registry = new ServiceRegistry("cluster.local");
    ConfigStore store = new ConfigStore(new SimpleMeterRegistry());
    dev.bosun.controlplane.registry.CredentialRegistry credentials =
        new dev.bosun.controlplane.registry.CredentialRegistry();
    try {
      for (YamlDocument document : YamlDocuments.parse(location, yaml)) {
        JsonNode tree =
            document
                .tree()
                .orElseThrow(
                    () -> new AssertionError(document.location() + ": " + document.error()));
        String kind = tree.path("kind").asText();
        if (IstioKind.isIstioGroup(tree.path("apiVersion").asText())) {
          assertThat(store.put(tree, document.location()))
              .as(document.location())
              .isEqualTo(ConfigStore.Outcome.APPLIED);
          continue;
        }
        switch (kind) {
          case "Service" ->
              registry.upsertService(IstioJson.json().treeToValue(tree, Service.class));
          case "EndpointSlice" ->
              registry.upsertEndpointSlice(IstioJson.json().treeToValue(tree, EndpointSlice.class));
          case "Pod" -> registry.upsertPod(IstioJson.json().treeToValue(tree, Pod.class));
          case "Node" ->
              registry.upsertNode(
                  IstioJson.json().treeToValue(tree, io.fabric8.kubernetes.api.model.Node.class));
          case "Secret" ->
              credentials.upsert(
                  IstioJson.json().treeToValue(tree, io.fabric8.kubernetes.api.model.Secret.class));
          case "Namespace" ->
              registry.upsertNamespace(IstioJson.json().treeToValue(tree, Namespace.class));
          default -> throw new AssertionError(document.location() + ": unexpected kind " + kind);
        }
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(location + ": " + e.getMessage(), e);
    }
    return new SnapshotBuilder("istio-system")
        .full(
            1,
            Instant.EPOCH,
            new SnapshotBuilder.Inputs(
                Map.copyOf(registry.services()),
                registry::endpoints,
                store.all(),
                List.copyOf(registry.pods()),
                meshConfig,
                credentials.all()));
  }
}
