package dev.bosun.controlplane.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigKey;
import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * What a source (Kubernetes informers or a local directory) tells the mesh model. {@code origin}
 * names where an object came from, for messages: {@code kubernetes} or {@code file.yaml:12}.
 */
public interface MeshEvents {
  /** A Service, EndpointSlice, Pod, Node or Namespace was added or changed. */
  void kubernetesUpserted(HasMetadata object, String origin);

  /** A Service, EndpointSlice, Pod, Node or Namespace was removed. */
  void kubernetesDeleted(HasMetadata object, String origin);

  /** An Istio object was added or changed (the whole document, not yet validated). */
  void istioUpserted(JsonNode document, String origin);

  /** An Istio object was removed. */
  void istioDeleted(ConfigKey key, String origin);

  /** The source has delivered its initial state; the first push may go out. */
  void synced(String source);
}
