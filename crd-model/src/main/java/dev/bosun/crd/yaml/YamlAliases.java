package dev.bosun.crd.yaml;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.bosun.crd.IstioJson;
import java.io.StringReader;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Anchors ({@code &name}), aliases ({@code *name}) and merge keys ({@code <<: *name}) expanded as
 * the API server's YAML reader expands them, which Jackson's YAML parser does not (it reads an
 * alias as the anchor's name). SnakeYAML's composer resolves them, with its bound on aliases; plain
 * scalars are then typed as Jackson types them, so a document reads the same either way apart from
 * its aliases.
 */
final class YamlAliases {
  private YamlAliases() {}

  /** The expanded tree of {@code text}, or empty when it uses no alias or merge key. */
  static Optional<JsonNode> expand(String text) throws JsonProcessingException {
    if (!text.contains("*") && !text.contains("<<")) {
      return Optional.empty(); // no alias can be there
    }
    Node root;
    try {
      root = new Yaml(new LoaderOptions()).compose(new StringReader(text));
    } catch (RuntimeException e) {
      return Optional.empty(); // Jackson's parse reports what is wrong with the text
    }
    if (root == null || !aliased(root, new IdentityHashMap<>())) {
      return Optional.empty();
    }
    return Optional.of(json(root));
  }

  /** Whether a node appears twice (an alias) or a mapping has a merge key. */
  private static boolean aliased(Node node, Map<Node, Boolean> seen) {
    if (seen.put(node, Boolean.TRUE) != null) {
      return true;
    }
    if (node instanceof MappingNode mapping) {
      for (NodeTuple tuple : mapping.getValue()) {
        if (Tag.MERGE.equals(tuple.getKeyNode().getTag())
            || aliased(tuple.getKeyNode(), seen)
            || aliased(tuple.getValueNode(), seen)) {
          return true;
        }
      }
    } else if (node instanceof SequenceNode sequence) {
      for (Node item : sequence.getValue()) {
        if (aliased(item, seen)) {
          return true;
        }
      }
    }
    return false;
  }

  private static JsonNode json(Node node) throws JsonProcessingException {
    if (node instanceof MappingNode mapping) {
      ObjectNode object = JsonNodeFactory.instance.objectNode();
      List<NodeTuple> merged = new java.util.ArrayList<>();
      for (NodeTuple tuple : mapping.getValue()) {
        if (Tag.MERGE.equals(tuple.getKeyNode().getTag())) {
          merged.add(tuple);
          continue;
        }
        object.set(key(tuple.getKeyNode()), json(tuple.getValueNode()));
      }
      // Keys written in the mapping win over merged ones; of merged mappings, the first wins.
      for (NodeTuple tuple : merged) {
        Node value = tuple.getValueNode();
        List<Node> sources = value instanceof SequenceNode list ? list.getValue() : List.of(value);
        for (Node source : sources) {
          if (json(source) instanceof ObjectNode from) {
            from.fields()
                .forEachRemaining(
                    entry -> {
                      if (!object.has(entry.getKey())) {
                        object.set(entry.getKey(), entry.getValue());
                      }
                    });
          }
        }
      }
      return object;
    }
    if (node instanceof SequenceNode sequence) {
      ArrayNode array = JsonNodeFactory.instance.arrayNode();
      for (Node item : sequence.getValue()) {
        array.add(json(item));
      }
      return array;
    }
    ScalarNode scalar = (ScalarNode) node;
    if (scalar.getScalarStyle() != DumperOptions.ScalarStyle.PLAIN
        || Tag.STR.equals(scalar.getTag())) {
      return TextNode.valueOf(scalar.getValue()); // quoted, block, or a string (also !!str)
    }
    if (scalar.getValue().isEmpty()) {
      return NullNode.getInstance();
    }
    JsonNode typed = IstioJson.yaml().readTree(scalar.getValue());
    return typed == null || typed.isMissingNode() ? NullNode.getInstance() : typed;
  }

  private static String key(Node node) {
    return node instanceof ScalarNode scalar ? scalar.getValue() : node.toString();
  }
}
