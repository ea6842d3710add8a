package dev.bosun.controlplane.webhook.inject;

/** Booleans spelled as Go's {@code strconv.ParseBool} takes them, which Istio's annotations use. */
final class Booleans {
  private Booleans() {}

  /** The value, or null when {@code text} is not one of Go's spellings. */
  static Boolean parse(String text) {
    return switch (text) {
      case "1", "t", "T", "TRUE", "true", "True" -> Boolean.TRUE;
      case "0", "f", "F", "FALSE", "false", "False" -> Boolean.FALSE;
      default -> null;
    };
  }
}
