package dev.bosun.controlplane.meshconfig;

import java.util.List;

/**
 * A mesh config that cannot be applied, with every problem found ({@code connectTimeout: "ten
 * seconds" (expected: ...)}); the config in force stays.
 */
public final class MeshConfigException extends Exception {
  private final List<String> problems;

  public MeshConfigException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem, with its field path, value and expectation. */
  public List<String> problems() {
    return problems;
  }
}
