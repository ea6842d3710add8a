package dev.bosun.crd.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.schema.TypeSchema;
import dev.bosun.crd.schema.TypeSchema.AnySchema;
import dev.bosun.crd.schema.TypeSchema.ArraySchema;
import dev.bosun.crd.schema.TypeSchema.MapSchema;
import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.schema.TypeSchema.OneOfGroup;
import dev.bosun.crd.schema.TypeSchema.ScalarSchema;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Checks a raw document tree against the schema the CRDs are generated from: unknown fields, wrong
 * types, unknown enum values, malformed durations, missing required fields and one-of conflicts. It
 * works on the tree, not the typed model, because the model silently drops what it cannot read (an
 * unknown enum value parses to nothing).
 */
final class SchemaValidator {
  private static final long UINT32_MAX = 4_294_967_295L;

  private SchemaValidator() {}

  static void validate(JsonNode node, TypeSchema schema, FieldPath path, Problems problems) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return;
    }
    if (schema instanceof ObjectSchema object) {
      object(node, object, path, problems);
    } else if (schema instanceof ArraySchema array) {
      array(node, array, path, problems);
    } else if (schema instanceof MapSchema map) {
      map(node, map, path, problems);
    } else if (schema instanceof ScalarSchema scalar) {
      scalar(node, scalar, path, problems);
    } else if (!(schema instanceof AnySchema)) {
      throw new IllegalStateException("unhandled schema " + schema);
    }
  }

  private static void object(JsonNode node, ObjectSchema schema, FieldPath path, Problems out) {
    if (!node.isObject()) {
      out.invalid(path, node, schema.describe());
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      TypeSchema fieldSchema = schema.properties().get(field.getKey());
      FieldPath fieldPath = path.field(field.getKey());
      if (fieldSchema == null) {
        out.add(fieldPath, unknownField(field.getKey(), schema));
      } else {
        validate(field.getValue(), fieldSchema, fieldPath, out);
      }
    }
    for (String required : new TreeSet<>(schema.required())) {
      JsonNode value = node.get(required);
      if (value == null || value.isNull()) {
        out.missing(path.field(required), "a value; the field is required");
      }
    }
    for (OneOfGroup group : schema.oneOfGroups()) {
      List<String> set = new ArrayList<>();
      for (String field : group.fields()) {
        JsonNode value = node.get(field);
        if (value != null && !value.isNull()) {
          set.add(field);
        }
      }
      if (set.size() > 1) {
        out.add(
            path,
            "sets "
                + String.join(" and ", set)
                + " (expected: at most one of "
                + String.join(", ", group.fields())
                + ")");
      }
    }
  }

  private static String unknownField(String name, ObjectSchema schema) {
    String suggestion = closest(name, schema.properties().keySet());
    String known = String.join(", ", new TreeSet<>(schema.properties().keySet()));
    return "unknown field"
        + (suggestion == null ? "" : ", did you mean \"" + suggestion + "\"?")
        + " (expected one of: "
        + known
        + ")";
  }

  private static void array(JsonNode node, ArraySchema schema, FieldPath path, Problems out) {
    if (!node.isArray()) {
      out.invalid(path, node, schema.describe());
      return;
    }
    for (int i = 0; i < node.size(); i++) {
      validate(node.get(i), schema.items(), path.index(i), out);
    }
  }

  private static void map(JsonNode node, MapSchema schema, FieldPath path, Problems out) {
    if (!node.isObject()) {
      out.invalid(path, node, schema.describe());
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      if (entry.getValue().isNull()) {
        // YAML "key: ~" or "key:" with nothing after it; the API server would drop the entry.
        out.add(
            path.key(entry.getKey()), "no value (expected: " + schema.values().describe() + ")");
        continue;
      }
      validate(entry.getValue(), schema.values(), path.key(entry.getKey()), out);
    }
  }

  private static void scalar(JsonNode node, ScalarSchema schema, FieldPath path, Problems out) {
    switch (schema.scalar()) {
      case STRING -> string(node, schema, path, out);
      case INT32 -> {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          out.invalid(path, node, "an integer between -2147483648 and 2147483647");
        }
      }
      case UINT32 -> {
        if (!node.isIntegralNumber()
            || !node.canConvertToLong()
            || node.asLong() < 0
            || node.asLong() > UINT32_MAX) {
          out.invalid(path, node, "an integer between 0 and " + UINT32_MAX);
        }
      }
      case UINT64 -> {
        if (!node.isIntegralNumber()
            || node.bigIntegerValue().signum() < 0
            || node.bigIntegerValue().bitLength() > 64) {
          out.invalid(path, node, "an integer between 0 and 18446744073709551615");
        }
      }
      case DOUBLE -> {
        if (!node.isNumber()) {
          out.invalid(path, node, "a number");
        }
      }
      case BOOLEAN -> {
        if (!node.isBoolean()) {
          out.invalid(path, node, "true or false");
        }
      }
    }
  }

  private static void string(JsonNode node, ScalarSchema schema, FieldPath path, Problems out) {
    if (!node.isTextual()) {
      out.invalid(path, node, schema.describe());
      return;
    }
    String text = node.asText();
    if (!schema.enumValues().isEmpty() && !schema.enumValues().contains(text)) {
      out.invalid(path, text, "unknown value", "one of " + String.join(", ", schema.enumValues()));
    }
    if (schema.duration()) {
      var duration = Durations.parse(text);
      if (duration.isEmpty()) {
        out.invalid(path, text, "invalid duration", Durations.EXPECTED);
      } else if (duration.get().isNegative()) {
        out.invalid(path, text, "negative duration", "a duration >= 0s");
      }
    }
  }

  /** The known name within edit distance 2 of a misspelt one, if any. */
  private static String closest(String name, Iterable<String> known) {
    String best = null;
    int bestDistance = 3;
    for (String candidate : known) {
      int distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best;
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
