package dev.bosun.controlplane.config;

/** Two objects claim the same thing; Istio's precedence picked {@code winner}. */
public record Conflict(String what, ConfigKey winner, ConfigKey loser) {
  @Override
  public String toString() {
    return loser
        + " ignored for "
        + what
        + ": "
        + winner
        + " takes precedence (older, or same age and sorts first)";
  }
}
