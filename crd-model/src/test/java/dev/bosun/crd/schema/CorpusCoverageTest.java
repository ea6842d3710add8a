package dev.bosun.crd.schema;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.Corpus;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.schema.TypeSchema.ArraySchema;
import dev.bosun.crd.schema.TypeSchema.MapSchema;
import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.yaml.YamlDocument;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The corpus exercises every field of every kind's schema (leaf fields included), so the round-trip
 * and validity tests speak for the whole model. Paths normalise list indexes to {@code []} and map
 * keys to {@code {}}.
 */
class CorpusCoverageTest {
  /** Deprecated fields Istio still serves but documents as replaced; kept out of new YAML. */
  private static final Set<String> DEPRECATED =
      Set.of(
          "VirtualService.http[].corsPolicy.allowOrigin",
          "VirtualService.http[].fault.delay.percent",
          "VirtualService.http[].mirrorPercent",
          "DestinationRule.trafficPolicy.loadBalancer.consistentHash.minimumRingSize",
          "DestinationRule.trafficPolicy.outlierDetection.consecutiveErrors");

  /**
   * Fields of shared types that do nothing where they appear here, or that grpc-xds and Envoy do
   * not implement (Istio's webhook warns or refuses): listed, not silently skipped.
   */
  private static final Set<String> NOT_APPLICABLE =
      Set.of(
          "Gateway.servers[].port.targetPort",
          "Sidecar.egress[].port.targetPort",
          "Sidecar.ingress[].port.targetPort",
          "Sidecar.ingress[].tls.httpsRedirect",
          "VirtualService.http[].fault.abort.http2Error",
          "VirtualService.http[].fault.delay.exponentialDelay");

  @Test
  void corpus_exercisesEveryFieldOfEveryKind() {
    Set<String> schemaPaths = new TreeSet<>();
    for (IstioKind kind : IstioKind.values()) {
      paths(kind.kind(), SchemaModel.spec(kind), schemaPaths);
    }
    Set<String> corpusPaths = new TreeSet<>();
    for (YamlDocument document : Corpus.validDocuments()) {
      JsonNode tree = document.tree().orElseThrow();
      IstioKind kind =
          IstioKind.of(tree.get("apiVersion").asText(), tree.get("kind").asText()).orElseThrow();
      paths(kind.kind(), tree.get("spec"), SchemaModel.spec(kind), corpusPaths);
    }
    Set<String> uncovered = new TreeSet<>(schemaPaths);
    uncovered.removeAll(corpusPaths);
    uncovered.removeIf(
        path ->
            DEPRECATED.stream().anyMatch(path::startsWith)
                || NOT_APPLICABLE.contains(path)
                || isRepeatedPolicy(path));
    assertThat(uncovered).as("schema fields no corpus document uses").isEmpty();
  }

  /**
   * Subset- and port-level traffic policies reuse the top-level policy's types, which the corpus
   * covers in full at the top level.
   */
  private static boolean isRepeatedPolicy(String path) {
    return path.matches(
            "DestinationRule\\.(subsets\\[\\]\\.trafficPolicy|trafficPolicy\\.portLevelSettings\\[\\]|subsets\\[\\]\\.trafficPolicy\\.portLevelSettings\\[\\])\\..*")
        || path.matches("Sidecar\\.(inboundConnectionPool|ingress\\[\\]\\.connectionPool)\\..*");
  }

  private static void paths(String prefix, TypeSchema schema, Set<String> out) {
    if (schema instanceof ObjectSchema object) {
      for (Map.Entry<String, TypeSchema> field : object.properties().entrySet()) {
        String path = prefix + "." + field.getKey();
        out.add(path);
        paths(path, field.getValue(), out);
      }
    } else if (schema instanceof ArraySchema array) {
      paths(prefix + "[]", array.items(), out);
    } else if (schema instanceof MapSchema map) {
      paths(prefix + "{}", map.values(), out);
    }
  }

  /** The schema paths a document uses, walking the schema beside it so map keys become {}. */
  private static void paths(String prefix, JsonNode node, TypeSchema schema, Set<String> out) {
    if (node == null) {
      return;
    }
    if (schema instanceof ArraySchema array && node.isArray()) {
      node.forEach(item -> paths(prefix + "[]", item, array.items(), out));
    } else if (schema instanceof MapSchema map && node.isObject()) {
      node.forEach(value -> paths(prefix + "{}", value, map.values(), out));
    } else if (schema instanceof ObjectSchema object && node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        String path = prefix + "." + field.getKey();
        out.add(path);
        TypeSchema fieldSchema = object.properties().get(field.getKey());
        if (fieldSchema != null) {
          paths(path, field.getValue(), fieldSchema, out);
        }
      }
    }
  }
}
