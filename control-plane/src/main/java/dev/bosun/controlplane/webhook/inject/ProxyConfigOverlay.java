package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;

/**
 * The proxy's effective ProxyConfig: the mesh's {@code defaultConfig} with the pod's {@code
 * proxy.istio.io/config} laid over it as istiod merges them. A field the pod sets replaces the
 * mesh's, except {@code proxyMetadata}, whose entries are merged key by key (the pod's win).
 */
public final class ProxyConfigOverlay {
  private ProxyConfigOverlay() {}

  /**
   * The merge of {@code meshDefault} and {@code annotation} (YAML or JSON; {@code null} for none).
   *
   * @throws IllegalArgumentException naming the annotation when it is not a YAML or JSON object
   */
  public static ObjectNode merge(ObjectNode meshDefault, String annotation) {
    ObjectNode merged = meshDefault.deepCopy();
    if (annotation == null) {
      return merged;
    }
    JsonNode overlay;
    try {
      overlay =
          annotation.isBlank()
              ? IstioJson.json().createObjectNode()
              : IstioJson.yaml().readTree(annotation);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          SidecarAnnotations.PROXY_CONFIG
              + ": not YAML or JSON: "
              + e.getOriginalMessage()
              + " (expected: a ProxyConfig object)");
    }
    if (overlay == null || overlay.isNull() || overlay.isMissingNode()) {
      return merged;
    }
    if (!overlay.isObject()) {
      throw new IllegalArgumentException(
          SidecarAnnotations.PROXY_CONFIG
              + ": "
              + overlay.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
              + " (expected: a ProxyConfig object)");
    }
    JsonNode metadata = merged.path("proxyMetadata");
    overlay
        .fields()
        .forEachRemaining(
            field -> {
              if (field.getKey().equals("proxyMetadata")
                  && metadata.isObject()
                  && field.getValue().isObject()) {
                ObjectNode both = ((ObjectNode) metadata).deepCopy();
                both.setAll((ObjectNode) field.getValue());
                merged.set("proxyMetadata", both);
              } else {
                merged.set(field.getKey(), field.getValue());
              }
            });
    return merged;
  }
}
