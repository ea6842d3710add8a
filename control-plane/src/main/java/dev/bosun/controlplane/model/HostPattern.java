package dev.bosun.controlplane.model;

/**
 * A host as Istio objects name one: exact ({@code reviews.shop.svc.cluster.local}), a wildcard
 * suffix ({@code *.example.com}, which matches {@code a.example.com} and {@code a.b.example.com}),
 * or {@code *}, every host.
 */
public record HostPattern(String value) {
  /** Whether {@code pattern} names {@code host}. */
  public static boolean matches(String pattern, String host) {
    return new HostPattern(pattern).matches(host);
  }

  public boolean matches(String host) {
    if (value.equals("*")) {
      return true;
    }
    if (value.startsWith("*.")) {
      return host.endsWith(value.substring(1));
    }
    return value.equals(host);
  }

  /** Whether either of two patterns (or hosts) names a host the other names. */
  public static boolean overlap(String a, String b) {
    return matches(a, b) || matches(b, a);
  }
}
