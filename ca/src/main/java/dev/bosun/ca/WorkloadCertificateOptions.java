package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How long workload certificates live and how far back they are dated.
 *
 * @param defaultTtl the lifetime when a request asks for none (istiod's {@code
 *     DEFAULT_WORKLOAD_CERT_TTL}, 24 hours)
 * @param maxTtl the longest lifetime a request may ask for; longer requests are refused (istiod's
 *     {@code MAX_WORKLOAD_CERT_TTL}, 90 days)
 * @param notBeforeSkew how far before the signing time NotBefore is set, so a peer whose clock is a
 *     little behind the CA's accepts a certificate issued a moment ago (istiod's {@code
 *     ClockSkewGracePeriod}, 2 minutes)
 */
public record WorkloadCertificateOptions(
    Duration defaultTtl, Duration maxTtl, Duration notBeforeSkew) {
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);
  public static final Duration DEFAULT_MAX_TTL = Duration.ofDays(90);
  public static final Duration DEFAULT_NOT_BEFORE_SKEW = Duration.ofMinutes(2);

  /** istiod's defaults: 24 hours, at most 90 days, dated 2 minutes back. */
  public static final WorkloadCertificateOptions DEFAULTS =
      new WorkloadCertificateOptions(DEFAULT_TTL, DEFAULT_MAX_TTL, DEFAULT_NOT_BEFORE_SKEW);

  public WorkloadCertificateOptions {
    requireNonNull(defaultTtl, "defaultTtl");
    requireNonNull(maxTtl, "maxTtl");
    requireNonNull(notBeforeSkew, "notBeforeSkew");
    if (defaultTtl.isNegative() || defaultTtl.isZero()) {
      throw new IllegalArgumentException("defaultTtl: " + defaultTtl + " (expected: > 0)");
    }
    if (maxTtl.compareTo(defaultTtl) < 0) {
      throw new IllegalArgumentException(
          "maxTtl: " + maxTtl + " (expected: >= defaultTtl " + defaultTtl + ")");
    }
    if (notBeforeSkew.isNegative()) {
      throw new IllegalArgumentException("notBeforeSkew: " + notBeforeSkew + " (expected: >= 0)");
    }
  }

  /** These options with another maximum lifetime. */
  public WorkloadCertificateOptions withMaxTtl(Duration maxTtl) {
    return new WorkloadCertificateOptions(defaultTtl, maxTtl, notBeforeSkew);
  }

  /** These options with another default lifetime. */
  public WorkloadCertificateOptions withDefaultTtl(Duration defaultTtl) {
    return new WorkloadCertificateOptions(defaultTtl, maxTtl, notBeforeSkew);
  }

  /** A duration for people: {@code 90d}, {@code 24h}, {@code 1h30m}, {@code 90d1s}. */
  static String format(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    StringBuilder out = new StringBuilder(duration.isNegative() ? "-" : "");
    Duration d = duration.abs();
    append(out, d.toDays(), "d");
    append(out, d.toHoursPart(), "h");
    append(out, d.toMinutesPart(), "m");
    append(out, d.toSecondsPart(), "s");
    append(out, d.toMillisPart(), "ms");
    return out.toString();
  }

  private static void append(StringBuilder out, long amount, String unit) {
    if (amount != 0) {
      out.append(amount).append(unit);
    }
  }
}
