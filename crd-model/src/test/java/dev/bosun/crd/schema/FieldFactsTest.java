package dev.bosun.crd.schema;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.crd.IstioKind;
import dev.bosun.crd.schema.TypeSchema.ArraySchema;
import dev.bosun.crd.schema.TypeSchema.MapSchema;
import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.schema.TypeSchema.ScalarSchema;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every fact keyed by class and field names a real field, so none is silently dropped. */
class FieldFactsTest {

  @Test
  void everyDurationAndRequiredKey_namesAFieldTheSchemaHas() {
    Set<String> durations = new HashSet<>();
    Set<String> required = new HashSet<>();
    for (IstioKind kind : IstioKind.values()) {
      collect(SchemaModel.spec(kind), durations, required);
    }
    assertThat(durations)
        .as("duration fields found in the schema")
        .hasSize(FieldFacts.DURATIONS.size());
    assertThat(required)
        .containsExactlyInAnyOrderElementsOf(
            FieldFacts.REQUIRED.stream()
                .map(key -> key.substring(key.indexOf('.') + 1))
                .distinct()
                .toList());
  }

  @Test
  void ringHashOverride_replacesTheSelfNestedModelType() {
    ObjectSchema dr = SchemaModel.spec(IstioKind.DESTINATION_RULE);
    ObjectSchema policy = (ObjectSchema) dr.properties().get("trafficPolicy");
    ObjectSchema lb = (ObjectSchema) policy.properties().get("loadBalancer");
    ObjectSchema hash = (ObjectSchema) lb.properties().get("consistentHash");
    ObjectSchema ringHash = (ObjectSchema) hash.properties().get("ringHash");
    assertThat(ringHash.properties()).containsOnlyKeys("minimumRingSize");
  }

  private static void collect(TypeSchema schema, Set<String> durations, Set<String> required) {
    if (schema instanceof ObjectSchema object) {
      object
          .properties()
          .forEach(
              (name, field) -> {
                if (field instanceof ScalarSchema scalar && scalar.duration()) {
                  durations.add(object.typeName() + "." + name);
                }
                collect(field, durations, required);
              });
      object
          .required()
          .forEach(
              field -> {
                assertThat(object.properties()).as(object.typeName()).containsKey(field);
                required.add(field);
              });
    } else if (schema instanceof ArraySchema array) {
      collect(array.items(), durations, required);
    } else if (schema instanceof MapSchema map) {
      collect(map.values(), durations, required);
    }
  }

  static Stream<String> keys() {
    return Stream.concat(FieldFacts.DURATIONS.stream(), FieldFacts.REQUIRED.stream());
  }
}
