package dev.bosun.crd.validation;

import java.util.regex.Pattern;

/**
 * A path to a field inside a document, rendered the way users read it: {@code
 * spec.http[0].route[1].weight}, with map keys in brackets ({@code matchLabels[app]}).
 */
public final class FieldPath {
  private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_.\\-/:~*]+");

  private final String text;

  private FieldPath(String text) {
    this.text = text;
  }

  /** The path of a top-level field such as {@code spec} or {@code metadata}. */
  public static FieldPath root(String field) {
    return new FieldPath(field);
  }

  /** The path of a named field below this one. */
  public FieldPath field(String name) {
    return new FieldPath(text.isEmpty() ? name : text + "." + name);
  }

  /** The path of a list element. */
  public FieldPath index(int index) {
    return new FieldPath(text + "[" + index + "]");
  }

  /** The path of a map entry. */
  public FieldPath key(String key) {
    String shown = SIMPLE_KEY.matcher(key).matches() ? key : Values.quote(key);
    return new FieldPath(text + "[" + shown + "]");
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof FieldPath path && path.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
