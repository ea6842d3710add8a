package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

/** The SPIFFE identity Istio gives a Kubernetes service account. */
public final class SpiffeId {
  private SpiffeId() {}

  /** {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
  public static String of(String trustDomain, String namespace, String serviceAccount) {
    return "spiffe://"
        + segment("trustDomain", trustDomain)
        + "/ns/"
        + segment("namespace", namespace)
        + "/sa/"
        + segment("serviceAccount", serviceAccount);
  }

  private static String segment(String name, String value) {
    requireNonNull(value, name);
    if (value.isEmpty()
        || value.indexOf('/') >= 0
        || value.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(
          name + ": \"" + value + "\" (expected: a non-empty name without '/' or spaces)");
    }
    return value;
  }
}
