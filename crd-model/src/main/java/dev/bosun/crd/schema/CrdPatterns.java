package dev.bosun.crd.schema;

/** Regular expressions the CRD schemas use, shared with tests that keep them honest. */
public final class CrdPatterns {
  /**
   * Go's duration syntax, which Istio accepts (and which covers protobuf JSON's {@code "1.5s"}).
   * The validator's {@code Durations} parser accepts exactly the non-negative strings this matches.
   */
  public static final String DURATION =
      "^[+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";

  private CrdPatterns() {}
}
