package dev.bosun.crd.schema;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape of one value in an Istio spec, derived once from the model classes. It is the single
 * source for both the CRD's OpenAPI schema and the validator's structural checks (unknown fields,
 * types, enum values, durations, one-of groups), so the two can never disagree.
 */
public sealed interface TypeSchema {

  /** A short name of the expected shape for error messages, e.g. {@code an object}. */
  String describe();

  /** A message with named fields. {@code oneOfGroups} lists mutually exclusive alternatives. */
  record ObjectSchema(
      String typeName,
      Map<String, TypeSchema> properties,
      Set<String> required,
      List<OneOfGroup> oneOfGroups)
      implements TypeSchema {
    public ObjectSchema {
      requireNonNull(typeName, "typeName");
      properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
      required = Set.copyOf(required);
      oneOfGroups = List.copyOf(oneOfGroups);
    }

    @Override
    public String describe() {
      return "an object";
    }
  }

  /**
   * Fields of which at most one alternative may be set (a protobuf {@code oneof}). Each alternative
   * is the set of field names one branch contributes; in Istio's APIs each has exactly one field.
   */
  record OneOfGroup(String name, List<String> fields) {
    public OneOfGroup {
      requireNonNull(name, "name");
      fields = List.copyOf(fields);
    }
  }

  /** A list of values of one shape. */
  record ArraySchema(TypeSchema items) implements TypeSchema {
    public ArraySchema {
      requireNonNull(items, "items");
    }

    @Override
    public String describe() {
      return "a list";
    }
  }

  /** A map from string keys to values of one shape. */
  record MapSchema(TypeSchema values) implements TypeSchema {
    public MapSchema {
      requireNonNull(values, "values");
    }

    @Override
    public String describe() {
      return "a map";
    }
  }

  /** A string, number or boolean, possibly restricted to enum values or a duration. */
  record ScalarSchema(Scalar scalar, List<String> enumValues, boolean duration)
      implements TypeSchema {
    public ScalarSchema {
      requireNonNull(scalar, "scalar");
      enumValues = List.copyOf(enumValues);
    }

    static ScalarSchema of(Scalar scalar) {
      return new ScalarSchema(scalar, List.of(), false);
    }

    @Override
    public String describe() {
      if (duration) {
        return "a duration string such as \"1.5s\", \"300ms\", \"1m\" or \"1h\"";
      }
      if (!enumValues.isEmpty()) {
        return "one of " + String.join(", ", enumValues);
      }
      return scalar.description();
    }
  }

  /** Any JSON value (a {@code google.protobuf.Struct} or {@code Value}); not checked. */
  record AnySchema() implements TypeSchema {
    @Override
    public String describe() {
      return "any value";
    }
  }

  /** The scalar kinds of Istio's protobuf fields, as JSON carries them. */
  enum Scalar {
    STRING("string", "a string"),
    INT32("integer", "an integer"),
    UINT32("integer", "a non-negative integer"),
    UINT64("integer", "a non-negative integer"),
    DOUBLE("number", "a number"),
    BOOLEAN("boolean", "true or false");

    private final String openApiType;
    private final String description;

    Scalar(String openApiType, String description) {
      this.openApiType = openApiType;
      this.description = description;
    }

    /** The OpenAPI {@code type}. */
    public String openApiType() {
      return openApiType;
    }

    /** How an error message names the expected value. */
    public String description() {
      return description;
    }
  }
}
