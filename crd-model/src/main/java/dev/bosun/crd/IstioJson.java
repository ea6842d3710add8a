package dev.bosun.crd;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.istio.api.api.extensions.v1alpha1.WasmPluginTrafficSelector;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBRingHash;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/**
 * The JSON and YAML mappers for Istio objects. The fabric8 model classes carry their own Jackson
 * annotations; these mappers only fix the settings every reader and writer in Bosun must share.
 */
public final class IstioJson {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
          .addMixIn(LoadBalancerSettingsConsistentHashLBRingHash.class, PlainRingHash.class)
          .addMixIn(WasmPluginTrafficSelector.class, NamedWorkloadMode.class);

  private static final YAMLMapper YAML =
      YAMLMapper.builder(
              YAMLFactory.builder()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                  .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                  .build())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .addMixIn(LoadBalancerSettingsConsistentHashLBRingHash.class, PlainRingHash.class)
          .addMixIn(WasmPluginTrafficSelector.class, NamedWorkloadMode.class)
          .build();

  /**
   * fabric8's model gives the {@code ringHash} one-of branch and the RingHash message one class,
   * which inherits the branch's type deduction, so {@code ringHash: {minimumRingSize: 1024}} fails
   * with "Cannot deduce unique subtype". Read the nested message as a plain object instead; its
   * field is kept in the object's additional properties and written back unchanged.
   */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NONE)
  private abstract static class PlainRingHash {}

  /**
   * fabric8's model types WasmPlugin {@code match[].mode} (Istio's {@code WorkloadMode} enum) as an
   * integer, so the names Istio's YAML uses ({@code SERVER}, ...) would not read. Read and write
   * the names, keeping the number in the model.
   */
  private abstract static class NamedWorkloadMode {
    @JsonSerialize(using = WorkloadModeWriter.class)
    abstract Integer getMode();

    @JsonDeserialize(using = WorkloadModeReader.class)
    abstract void setMode(Integer mode);
  }

  /** Istio's {@code istio.type.v1beta1.WorkloadMode}, by number. */
  public static final List<String> WORKLOAD_MODES =
      List.of("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER");

  private static final class WorkloadModeWriter extends JsonSerializer<Integer> {
    @Override
    public void serialize(Integer value, JsonGenerator out, SerializerProvider provider)
        throws java.io.IOException {
      if (value >= 0 && value < WORKLOAD_MODES.size()) {
        out.writeString(WORKLOAD_MODES.get(value));
      } else {
        out.writeNumber(value);
      }
    }
  }

  private static final class WorkloadModeReader extends JsonDeserializer<Integer> {
    @Override
    public Integer deserialize(JsonParser in, DeserializationContext context)
        throws java.io.IOException {
      if (in.currentToken() == JsonToken.VALUE_NUMBER_INT) {
        return in.getIntValue();
      }
      String name = in.getValueAsString();
      int index = WORKLOAD_MODES.indexOf(name);
      if (index < 0) {
        return (Integer)
            context.handleWeirdStringValue(
                Integer.class, name, "not one of %s", String.join(", ", WORKLOAD_MODES));
      }
      return index;
    }
  }

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
