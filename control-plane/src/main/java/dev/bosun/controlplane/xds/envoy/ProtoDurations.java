package dev.bosun.controlplane.xds.envoy;

import dev.bosun.crd.validation.Durations;
import java.util.Optional;

/** Istio duration strings ({@code "1.5s"}, {@code "300ms"}) as protobuf Durations. */
public final class ProtoDurations {
  private ProtoDurations() {}

  /** The duration, or empty when absent, malformed or negative (the validator reports those). */
  public static Optional<com.google.protobuf.Duration> of(String text) {
    if (text == null) {
      return Optional.empty();
    }
    return Durations.parse(text)
        .filter(d -> !d.isNegative())
        .map(
            d ->
                com.google.protobuf.Duration.newBuilder()
                    .setSeconds(d.getSeconds())
                    .setNanos(d.getNano())
                    .build());
  }
}
