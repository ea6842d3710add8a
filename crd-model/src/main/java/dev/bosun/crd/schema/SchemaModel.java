package dev.bosun.crd.schema;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.schema.TypeSchema.AnySchema;
import dev.bosun.crd.schema.TypeSchema.ArraySchema;
import dev.bosun.crd.schema.TypeSchema.MapSchema;
import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.schema.TypeSchema.OneOfGroup;
import dev.bosun.crd.schema.TypeSchema.Scalar;
import dev.bosun.crd.schema.TypeSchema.ScalarSchema;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Derives the {@link TypeSchema} of each kind's spec from the fabric8 Istio model classes through
 * Jackson's own view of them, so field names are exactly what Jackson reads and writes. Facts the
 * Java types cannot carry (which strings are durations, which fields are required) come from {@link
 * FieldFacts}.
 */
public final class SchemaModel {
  private static final Map<IstioKind, ObjectSchema> CACHE = new ConcurrentHashMap<>();

  private final ObjectMapper mapper = IstioJson.json();
  private final Set<Class<?>> visiting = new HashSet<>();

  private SchemaModel() {}

  /** The schema of a kind's {@code spec}. */
  public static ObjectSchema spec(IstioKind kind) {
    return CACHE.computeIfAbsent(kind, k -> (ObjectSchema) new SchemaModel().of(k.specClass()));
  }

  private TypeSchema of(Class<?> type) {
    return of(mapper.constructType(type));
  }

  private TypeSchema of(JavaType type) {
    Class<?> raw = type.getRawClass();
    if (raw == String.class) {
      return ScalarSchema.of(Scalar.STRING);
    }
    if (raw == Integer.class || raw == int.class || raw == Short.class) {
      return ScalarSchema.of(Scalar.INT32);
    }
    if (raw == Long.class || raw == long.class) {
      return ScalarSchema.of(Scalar.UINT32);
    }
    if (raw == Double.class || raw == double.class || raw == Float.class) {
      return ScalarSchema.of(Scalar.DOUBLE);
    }
    if (raw == Boolean.class || raw == boolean.class) {
      return ScalarSchema.of(Scalar.BOOLEAN);
    }
    if (raw.isEnum()) {
      return new ScalarSchema(Scalar.STRING, enumValues(raw), false);
    }
    if (type.isCollectionLikeType() || type.isArrayType()) {
      return new ArraySchema(of(type.getContentType()));
    }
    if (type.isMapLikeType()) {
      return new MapSchema(of(type.getContentType()));
    }
    if (raw == Object.class || raw == IntOrString.class || !visiting.add(raw)) {
      return new AnySchema();
    }
    try {
      return object(type);
    } finally {
      visiting.remove(raw);
    }
  }

  private ObjectSchema object(JavaType type) {
    Class<?> raw = type.getRawClass();
    Map<String, TypeSchema> properties = new LinkedHashMap<>();
    List<OneOfGroup> groups = new ArrayList<>();
    BeanDescription description = mapper.getDeserializationConfig().introspect(type);
    for (BeanPropertyDefinition property : description.findProperties()) {
      if (property.getPrimaryMember() == null) {
        continue;
      }
      JavaType propertyType = property.getPrimaryType();
      if (isUnwrapped(property)) {
        groups.add(unwrapped(raw, property.getName(), propertyType.getRawClass(), properties));
        continue;
      }
      String name = property.getName();
      properties.put(name, withFacts(raw, name, of(propertyType)));
    }
    properties.putAll(FieldFacts.aliases(raw));
    return new ObjectSchema(raw.getSimpleName(), properties, FieldFacts.required(raw), groups);
  }

  /**
   * A protobuf {@code oneof}: fabric8 models it as an unwrapped interface whose subtypes each add
   * one field to the enclosing object.
   */
  private OneOfGroup unwrapped(
      Class<?> owner, String name, Class<?> oneOf, Map<String, TypeSchema> properties) {
    JsonSubTypes subTypes = oneOf.getAnnotation(JsonSubTypes.class);
    if (subTypes == null) {
      throw new IllegalStateException("unwrapped type without subtypes: " + oneOf.getName());
    }
    List<String> fields = new ArrayList<>();
    for (JsonSubTypes.Type subType : subTypes.value()) {
      ObjectSchema branch = (ObjectSchema) of(subType.value());
      for (Map.Entry<String, TypeSchema> field : branch.properties().entrySet()) {
        properties.put(field.getKey(), withFacts(owner, field.getKey(), field.getValue()));
        fields.add(field.getKey());
      }
    }
    return new OneOfGroup(name, fields);
  }

  private static boolean isUnwrapped(BeanPropertyDefinition property) {
    for (AnnotatedMember member :
        new AnnotatedMember[] {property.getField(), property.getGetter(), property.getSetter()}) {
      if (member != null && member.hasAnnotation(JsonUnwrapped.class)) {
        return true;
      }
    }
    return false;
  }

  private static TypeSchema withFacts(Class<?> owner, String field, TypeSchema schema) {
    Optional<TypeSchema> override = FieldFacts.override(owner, field);
    if (override.isPresent()) {
      return override.get();
    }
    if (FieldFacts.isDuration(owner, field)) {
      if (!(schema instanceof ScalarSchema scalar) || scalar.scalar() != Scalar.STRING) {
        throw new IllegalStateException(owner.getSimpleName() + "." + field + " is not a string");
      }
      return new ScalarSchema(Scalar.STRING, List.of(), true);
    }
    return schema;
  }

  private List<String> enumValues(Class<?> enumType) {
    List<String> values = new ArrayList<>();
    for (Object constant : enumType.getEnumConstants()) {
      values.add(mapper.convertValue(constant, String.class));
    }
    return values;
  }
}
