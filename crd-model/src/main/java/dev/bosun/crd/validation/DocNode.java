package dev.bosun.crd.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A value of a raw document together with its path, so rules read like the YAML they check ({@code
 * spec.field("http").items()}) and every error knows where it is. Accessors never throw on a value
 * of the wrong type: the schema check has already reported that, and a rule simply sees nothing.
 */
record DocNode(JsonNode value, FieldPath path) {

  static DocNode of(JsonNode value, FieldPath path) {
    return new DocNode(value == null ? MissingNode.getInstance() : value, path);
  }

  DocNode field(String name) {
    return of(value.isObject() ? value.get(name) : null, path.field(name));
  }

  /** Whether the value is present and not null (an empty list or map still counts as set). */
  boolean isSet() {
    return !value.isMissingNode() && !value.isNull();
  }

  /** Whether the value is present and, for lists, maps and strings, not empty. */
  boolean hasContent() {
    if (!isSet()) {
      return false;
    }
    if (value.isContainerNode()) {
      return value.size() > 0;
    }
    return !value.isTextual() || !value.asText().isEmpty();
  }

  List<DocNode> items() {
    List<DocNode> items = new ArrayList<>();
    if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        items.add(of(value.get(i), path.index(i)));
      }
    }
    return items;
  }

  /** Entries of a map, each with its key. */
  List<Map.Entry<String, DocNode>> entries() {
    List<Map.Entry<String, DocNode>> entries = new ArrayList<>();
    if (value.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        entries.add(Map.entry(entry.getKey(), of(entry.getValue(), path.key(entry.getKey()))));
      }
    }
    return entries;
  }

  /** The text of a string value, or null. */
  String text() {
    return value.isTextual() ? value.asText() : null;
  }

  /** The text of each string item of a list, with its node. */
  List<DocNode> strings() {
    return items().stream().filter(item -> item.text() != null).toList();
  }

  boolean isNumber() {
    return value.isNumber();
  }

  long asLong() {
    return value.asLong();
  }

  double asDouble() {
    return value.asDouble();
  }
}
