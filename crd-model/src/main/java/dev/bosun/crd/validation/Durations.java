package dev.bosun.crd.validation;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Optional;

/**
 * Parses Istio durations. Istio accepts protobuf JSON ({@code "1.5s"}) and Go's duration syntax
 * ({@code "300ms"}, {@code "1m30s"}, {@code "1h"}); anything else, such as {@code "1.5 seconds"},
 * is rejected.
 */
public final class Durations {
  /** The expectation quoted in error messages. */
  public static final String EXPECTED = "a duration such as \"1.5s\", \"300ms\", \"1m\" or \"1h\"";

  private Durations() {}

  /** The duration, or empty when the text is not a valid duration. */
  public static Optional<Duration> parse(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.empty();
    }
    int i = 0;
    boolean negative = false;
    if (text.charAt(0) == '-' || text.charAt(0) == '+') {
      negative = text.charAt(0) == '-';
      i++;
    }
    if (i == text.length()) {
      return Optional.empty();
    }
    if (text.substring(i).equals("0")) {
      return Optional.of(Duration.ZERO);
    }
    BigDecimal nanos = BigDecimal.ZERO;
    while (i < text.length()) {
      int start = i;
      while (i < text.length() && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
        i++;
      }
      String number = text.substring(start, i);
      if (number.isEmpty()
          || number.equals(".")
          || number.indexOf('.') != number.lastIndexOf('.')) {
        return Optional.empty();
      }
      int unitStart = i;
      while (i < text.length() && !Character.isDigit(text.charAt(i)) && text.charAt(i) != '.') {
        i++;
      }
      BigDecimal unit = unitNanos(text.substring(unitStart, i));
      if (unit == null) {
        return Optional.empty();
      }
      nanos = nanos.add(new BigDecimal(number).multiply(unit));
    }
    if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return Optional.empty();
    }
    Duration duration = Duration.ofNanos(nanos.longValue());
    return Optional.of(negative ? duration.negated() : duration);
  }

  private static BigDecimal unitNanos(String unit) {
    return switch (unit) {
      case "ns" -> BigDecimal.ONE;
      case "us", "µs", "μs" -> BigDecimal.valueOf(1_000L);
      case "ms" -> BigDecimal.valueOf(1_000_000L);
      case "s" -> BigDecimal.valueOf(1_000_000_000L);
      case "m" -> BigDecimal.valueOf(60_000_000_000L);
      case "h" -> BigDecimal.valueOf(3_600_000_000_000L);
      default -> null;
    };
  }
}
