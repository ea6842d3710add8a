package dev.bosun.crd;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBRingHash;
import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * The JSON and YAML mappers for Istio objects. The fabric8 model classes carry their own Jackson
 * annotations; these mappers only fix the settings every reader and writer in Bosun must share.
 */
public final class IstioJson {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
          .addMixIn(LoadBalancerSettingsConsistentHashLBRingHash.class, PlainRingHash.class);

  private static final YAMLMapper YAML =
      YAMLMapper.builder(
              YAMLFactory.builder()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                  .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                  .build())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .addMixIn(LoadBalancerSettingsConsistentHashLBRingHash.class, PlainRingHash.class)
          .build();

  /**
   * fabric8's model gives the {@code ringHash} one-of branch and the RingHash message one class,
   * which inherits the branch's type deduction, so {@code ringHash: {minimumRingSize: 1024}} fails
   * with "Cannot deduce unique subtype". Read the nested message as a plain object instead; its
   * field is kept in the object's additional properties and written back unchanged.
   */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NONE)
  private abstract static class PlainRingHash {}

  private IstioJson() {}

  /** The shared JSON mapper. */
  public static ObjectMapper json() {
    return JSON;
  }

  /** The shared YAML mapper (no document start marker, minimal quoting). */
  public static YAMLMapper yaml() {
    return YAML;
  }

  /**
   * Converts a raw document tree into the fabric8 resource class of its kind and version.
   *
   * @throws IllegalArgumentException if the tree does not fit the model (a wrong type, say)
   */
  public static HasMetadata toResource(IstioKind.Version version, JsonNode tree) {
    try {
      return JSON.treeToValue(tree, version.resourceClass());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e.getOriginalMessage(), e);
    }
  }

  /** Converts a typed object back into a tree, as it would be written to YAML or JSON. */
  public static JsonNode toTree(Object value) {
    return JSON.valueToTree(value);
  }
}
