package dev.bosun.crd.validation;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every violation of one document; validators keep going after a problem so the user sees
 * all of them at once. The helpers fix the shape of messages: the bad value, then what was
 * expected.
 */
public final class Problems {
  private final List<Violation> violations = new ArrayList<>();

  /** A bad value: {@code <value> (expected: <expected>)}. */
  public void invalid(FieldPath path, Object value, String expected) {
    add(path, Values.show(value) + " (expected: " + expected + ")");
  }

  /** A bad value with a reason: {@code <value>: <reason> (expected: <expected>)}. */
  public void invalid(FieldPath path, Object value, String reason, String expected) {
    add(path, Values.show(value) + ": " + reason + " (expected: " + expected + ")");
  }

  /** A field that must be present. */
  public void missing(FieldPath path, String expected) {
    add(path, "missing (expected: " + expected + ")");
  }

  /** Anything else, already phrased with what was found and what was expected. */
  public void add(FieldPath path, String message) {
    violations.add(new Violation(path, message));
  }

  public boolean isEmpty() {
    return violations.isEmpty();
  }

  /** The violations in the order they were found. */
  public List<Violation> violations() {
    return List.copyOf(violations);
  }
}
