package dev.bosun.crd.schema;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.schema.TypeSchema.AnySchema;
import dev.bosun.crd.schema.TypeSchema.ArraySchema;
import dev.bosun.crd.schema.TypeSchema.MapSchema;
import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.schema.TypeSchema.OneOfGroup;
import dev.bosun.crd.schema.TypeSchema.ScalarSchema;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders a kind's CustomResourceDefinition (apiextensions.k8s.io/v1) from its {@link TypeSchema}:
 * a structural OpenAPI schema, every served version, one storage version, the status subresource
 * and Istio's names, short names and printer columns.
 */
public final class CrdRenderer {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private CrdRenderer() {}

  /** The CRD for one kind, as a JSON tree ready to be written as YAML. */
  public static ObjectNode render(IstioKind kind) {
    ObjectNode crd = NODES.objectNode();
    crd.put("apiVersion", "apiextensions.k8s.io/v1");
    crd.put("kind", "CustomResourceDefinition");
    ObjectNode metadata = crd.putObject("metadata");
    metadata.put("name", kind.crdName());
    metadata.putObject("annotations").put("helm.sh/resource-policy", "keep");
    ObjectNode labels = metadata.putObject("labels");
    labels.put("app.kubernetes.io/part-of", "bosun");
    labels.put("istio.io/api-group", kind.group().groupName());

    ObjectNode spec = crd.putObject("spec");
    spec.put("group", kind.group().groupName());
    ObjectNode names = spec.putObject("names");
    names.putArray("categories").add("istio-io").add(kind.group().category());
    names.put("kind", kind.kind());
    names.put("listKind", kind.kind() + "List");
    names.put("plural", kind.plural());
    if (!kind.shortNames().isEmpty()) {
      ArrayNode shortNames = names.putArray("shortNames");
      kind.shortNames().forEach(shortNames::add);
    }
    names.put("singular", kind.singular());
    spec.put("scope", "Namespaced");

    ObjectNode schema = openApiSchema(kind);
    ArrayNode versions = spec.putArray("versions");
    for (IstioKind.Version version : kind.versions()) {
      ObjectNode v = versions.addObject();
      v.put("name", version.name());
      v.set("additionalPrinterColumns", printerColumns(kind));
      v.putObject("schema").set("openAPIV3Schema", schema.deepCopy());
      v.put("served", true);
      v.put("storage", version.name().equals(kind.storageVersion()));
      v.putObject("subresources").putObject("status");
    }
    return crd;
  }

  private static ArrayNode printerColumns(IstioKind kind) {
    ArrayNode columns = NODES.arrayNode();
    for (IstioKind.PrinterColumn column : kind.printerColumns()) {
      ObjectNode c = columns.addObject();
      c.put("description", column.description());
      c.put("jsonPath", column.jsonPath());
      c.put("name", column.name());
      c.put("type", column.type());
    }
    return columns;
  }

  private static ObjectNode openApiSchema(IstioKind kind) {
    ObjectNode root = NODES.objectNode();
    ObjectNode properties = root.putObject("properties");
    ObjectNode spec = render(SchemaModel.spec(kind));
    spec.put(
        "description",
        "The " + kind.kind() + " spec, as in Istio's " + kind.group().groupName() + " API.");
    properties.set("spec", spec);
    ObjectNode status = properties.putObject("status");
    status.put("type", "object");
    status.put("x-kubernetes-preserve-unknown-fields", true);
    if (kind.requiresSpec()) {
      root.putArray("required").add("spec");
    }
    root.put("type", "object");
    return root;
  }

  static ObjectNode render(TypeSchema schema) {
    ObjectNode node = NODES.objectNode();
    if (schema instanceof ObjectSchema object) {
      renderObject(object, node);
    } else if (schema instanceof ArraySchema array) {
      node.set("items", render(array.items()));
      node.put("type", "array");
    } else if (schema instanceof MapSchema map) {
      node.set("additionalProperties", render(map.values()));
      node.put("type", "object");
    } else if (schema instanceof ScalarSchema scalar) {
      renderScalar(scalar, node);
    } else if (schema instanceof AnySchema) {
      node.put("x-kubernetes-preserve-unknown-fields", true);
    }
    return node;
  }

  private static void renderObject(ObjectSchema object, ObjectNode node) {
    List<OneOfGroup> groups =
        object.oneOfGroups().stream().filter(g -> g.fields().size() > 1).toList();
    if (groups.size() == 1) {
      node.set("oneOf", oneOf(groups.get(0)));
    } else if (groups.size() > 1) {
      ArrayNode allOf = node.putArray("allOf");
      groups.forEach(group -> allOf.addObject().set("oneOf", oneOf(group)));
    }
    ObjectNode properties = node.putObject("properties");
    for (Map.Entry<String, TypeSchema> property : object.properties().entrySet()) {
      properties.set(property.getKey(), render(property.getValue()));
    }
    if (!object.required().isEmpty()) {
      ArrayNode required = node.putArray("required");
      new TreeSet<>(object.required()).forEach(required::add);
    }
    node.put("type", "object");
  }

  /**
   * At most one field of a group: either none is set, or exactly one is. This is the form Istio's
   * own CRDs use, and it is structural (no types inside the junctors).
   */
  private static ArrayNode oneOf(OneOfGroup group) {
    ArrayNode oneOf = NODES.arrayNode();
    ArrayNode anyOf = oneOf.addObject().putObject("not").putArray("anyOf");
    for (String field : group.fields()) {
      anyOf.addObject().putArray("required").add(field);
    }
    for (String field : group.fields()) {
      oneOf.addObject().putArray("required").add(field);
    }
    return oneOf;
  }

  private static void renderScalar(ScalarSchema scalar, ObjectNode node) {
    if (!scalar.enumValues().isEmpty()) {
      ArrayNode values = node.putArray("enum");
      scalar.enumValues().forEach(values::add);
    }
    switch (scalar.scalar()) {
      case INT32 -> node.put("format", "int32");
      case UINT32 -> {
        node.put("maximum", 4294967295L);
        node.put("minimum", 0);
      }
      case UINT64 -> node.put("minimum", 0);
      case DOUBLE -> node.put("format", "double");
      default -> {}
    }
    if (scalar.duration()) {
      node.put("pattern", CrdPatterns.DURATION);
    }
    node.put("type", scalar.scalar().openApiType());
  }
}
