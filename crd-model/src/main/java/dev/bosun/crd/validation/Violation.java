package dev.bosun.crd.validation;

import static java.util.Objects.requireNonNull;

/**
 * One problem in one document: where it is and what is wrong, e.g. {@code
 * spec.http[0].route[1].weight: -5 (expected: >= 0)}.
 */
public record Violation(FieldPath path, String message) {
  public Violation {
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return path.toString().isEmpty() ? message : path + ": " + message;
  }
}
