package dev.bosun.crd.schema;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rules a Kubernetes API server (1.26+) applies when it accepts a CRD, checked on every
 * rendered manifest: the schema is structural, versions and names are consistent, exactly one
 * version is stored, and status survives pruning.
 */
class CrdStructureTest {
  private static final Set<String> SCHEMA_KEYS =
      Set.of(
          "type",
          "properties",
          "items",
          "additionalProperties",
          "required",
          "enum",
          "format",
          "pattern",
          "minimum",
          "maximum",
          "description",
          "oneOf",
          "allOf",
          "anyOf",
          "not",
          "minItems",
          "maxItems",
          "minLength",
          "maxLength",
          "nullable",
          "x-kubernetes-preserve-unknown-fields",
          "x-kubernetes-int-or-string",
          "x-kubernetes-validations");

  /** Inside oneOf/anyOf/allOf/not a structural schema may only constrain, never declare. */
  private static final Set<String> JUNCTOR_KEYS =
      Set.of(
          "required",
          "oneOf",
          "anyOf",
          "allOf",
          "not",
          "properties",
          "items",
          "enum",
          "pattern",
          "minimum",
          "maximum",
          "minItems",
          "maxItems",
          "minLength",
          "maxLength",
          "format");

  private static final Set<String> TYPES =
      Set.of("object", "array", "string", "integer", "number", "boolean");

  @ParameterizedTest
  @EnumSource(IstioKind.class)
  void crd_isAcceptedShape(IstioKind kind) throws Exception {
    ObjectNode crd = CrdRenderer.render(kind);
    CustomResourceDefinition typed =
        IstioJson.yaml()
            .readValue(IstioJson.yaml().writeValueAsString(crd), CustomResourceDefinition.class);

    assertThat(typed.getMetadata().getName())
        .isEqualTo(kind.plural() + "." + kind.group().groupName());
    assertThat(typed.getSpec().getGroup()).isEqualTo(kind.group().groupName());
    assertThat(typed.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(typed.getSpec().getNames().getKind()).isEqualTo(kind.kind());
    assertThat(typed.getSpec().getNames().getListKind()).isEqualTo(kind.kind() + "List");
    assertThat(typed.getSpec().getNames().getSingular()).isEqualTo(kind.kind().toLowerCase());
    assertThat(typed.getSpec().getNames().getShortNames())
        .containsExactlyElementsOf(kind.shortNames());
    assertThat(typed.getSpec().getNames().getCategories()).contains("istio-io");

    var versions = typed.getSpec().getVersions();
    assertThat(versions)
        .extracting(v -> v.getName())
        .containsExactlyInAnyOrderElementsOf(
            kind.versions().stream().map(IstioKind.Version::name).toList());
    assertThat(versions).allMatch(v -> Boolean.TRUE.equals(v.getServed()));
    assertThat(versions.stream().filter(v -> Boolean.TRUE.equals(v.getStorage())))
        .singleElement()
        .extracting(v -> v.getName())
        .isEqualTo(kind.storageVersion());
    for (var version : versions) {
      assertThat(version.getSubresources().getStatus()).as("status subresource").isNotNull();
      var status = version.getSchema().getOpenAPIV3Schema().getProperties().get("status");
      assertThat(status.getXKubernetesPreserveUnknownFields()).as("status is not pruned").isTrue();
      for (var column : version.getAdditionalPrinterColumns()) {
        assertThat(column.getJsonPath()).startsWith(".");
        assertThat(column.getType()).isIn("integer", "number", "string", "boolean", "date");
      }
      assertThat(version.getAdditionalPrinterColumns())
          .extracting(c -> c.getName())
          .contains("Age");
    }

    JsonNode first = crd.at("/spec/versions/0/schema/openAPIV3Schema");
    for (JsonNode version : crd.at("/spec/versions")) {
      assertThat(version.at("/schema/openAPIV3Schema"))
          .as("one schema for every version")
          .isEqualTo(first);
    }
    assertThat(first.get("type").asText()).isEqualTo("object");
    List<String> problems = new ArrayList<>();
    structural(first, "openAPIV3Schema", false, problems);
    assertThat(problems).as("structural schema violations").isEmpty();
  }

  private static void structural(
      JsonNode node, String path, boolean inJunctor, List<String> problems) {
    if (!node.isObject()) {
      problems.add(path + ": schema is not an object");
      return;
    }
    for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!SCHEMA_KEYS.contains(key)) {
        problems.add(path + ": unsupported schema keyword " + key);
      }
      if (inJunctor && !JUNCTOR_KEYS.contains(key)) {
        problems.add(path + ": " + key + " is not allowed inside oneOf/anyOf/allOf/not");
      }
    }
    boolean escape =
        node.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)
            || node.path("x-kubernetes-int-or-string").asBoolean(false);
    if (node.has("x-kubernetes-preserve-unknown-fields")
        && !node.get("x-kubernetes-preserve-unknown-fields").asBoolean()) {
      problems.add(path + ": x-kubernetes-preserve-unknown-fields must be true when set");
    }
    if (!inJunctor && !escape) {
      String type = node.path("type").asText("");
      if (!TYPES.contains(type)) {
        problems.add(path + ": missing or unknown type '" + type + "'");
      }
    }
    if (node.has("properties") && node.has("additionalProperties")) {
      problems.add(path + ": properties and additionalProperties together");
    }
    if (node.has("additionalProperties") && !node.get("additionalProperties").isObject()) {
      problems.add(path + ": additionalProperties must be a schema");
    }
    if (node.has("items") && !node.get("items").isObject()) {
      problems.add(path + ": items must be a single schema");
    }
    if (node.has("pattern")) {
      Pattern.compile(node.get("pattern").asText()); // the API server compiles it with Go's RE2
    }
    if (node.has("enum")) {
      for (JsonNode value : node.get("enum")) {
        if (!value.isTextual()) {
          problems.add(path + ": enum value " + value + " is not a string");
        }
      }
    }
    if (node.has("required")) {
      for (JsonNode required : node.get("required")) {
        if (!inJunctor && !node.path("properties").has(required.asText())) {
          problems.add(path + ": required field " + required + " is not a property");
        }
      }
    }
    if (node.has("properties")) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.get("properties").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> property = it.next();
        structural(
            property.getValue(), path + ".properties." + property.getKey(), inJunctor, problems);
      }
    }
    if (node.has("items")) {
      structural(node.get("items"), path + ".items", inJunctor, problems);
    }
    if (node.has("additionalProperties")) {
      structural(
          node.get("additionalProperties"), path + ".additionalProperties", inJunctor, problems);
    }
    for (String junctor : new String[] {"oneOf", "anyOf", "allOf"}) {
      if (node.has(junctor)) {
        int i = 0;
        for (JsonNode branch : node.get(junctor)) {
          String branchPath = path + "." + junctor + "[" + i++ + "]";
          structural(branch, branchPath, true, problems);
          if (!inJunctor) {
            junctorRequired(branch, node, branchPath, problems);
          }
        }
      }
    }
    if (node.has("not")) {
      structural(node.get("not"), path + ".not", true, problems);
    }
  }

  /** Fields a junctor requires must be properties of the object schema that owns it. */
  private static void junctorRequired(
      JsonNode junctor, JsonNode owner, String path, List<String> problems) {
    for (JsonNode required : junctor.path("required")) {
      if (!owner.path("properties").has(required.asText())) {
        problems.add(path + ": requires " + required + ", not a property of the object");
      }
    }
    for (String nested : new String[] {"oneOf", "anyOf", "allOf"}) {
      for (JsonNode branch : junctor.path(nested)) {
        junctorRequired(branch, owner, path + "." + nested, problems);
      }
    }
    if (junctor.has("not")) {
      junctorRequired(junctor.get("not"), owner, path + ".not", problems);
    }
  }
}
