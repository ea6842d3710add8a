package dev.bosun.crd.validation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;

/** Renders bad values for error messages: strings quoted, long values shortened. */
final class Values {
  private static final int MAX = 80;

  private Values() {}

  static String quote(String value) {
    try {
      return shorten(IstioJson.json().writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String show(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return quote(s);
    }
    if (value instanceof JsonNode node) {
      return shorten(node.toString());
    }
    if (value instanceof Number || value instanceof Boolean || value instanceof Enum<?>) {
      return value.toString();
    }
    return shorten(IstioJson.toTree(value).toString());
  }

  private static String shorten(String text) {
    return text.length() <= MAX ? text : text.substring(0, MAX - 3) + "...";
  }
}
