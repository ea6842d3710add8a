package dev.bosun.crd.yaml;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * One document of a multi-document YAML source: where it is (source, position, first line) and
 * either its parsed tree or the reason it could not be parsed.
 */
public record YamlDocument(
    String source, int position, int line, Optional<JsonNode> tree, Optional<String> error) {
  public YamlDocument {
    requireNonNull(source, "source");
    requireNonNull(tree, "tree");
    requireNonNull(error, "error");
    if (tree.isPresent() == error.isPresent()) {
      throw new IllegalArgumentException("exactly one of tree and error");
    }
  }

  /** {@code file.yaml:12 (document 3)}, for messages. */
  public String location() {
    return source + ":" + line + " (document " + position + ")";
  }
}
