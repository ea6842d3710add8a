package dev.bosun.controlplane.push;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Coalesces push requests: a merged request is released once no new request has arrived for the
 * quiet period, or once the first pending request has waited the maximum delay, whichever comes
 * first (istiod's defaults: 100 ms and 10 s). A plain state machine over caller-supplied times, so
 * tests drive it with fake time; {@link DebounceLoop} runs it against a real clock.
 */
public final class Debouncer {
  private final long quietNanos;
  private final long maxDelayNanos;

  private PushRequest pending;
  private long firstNanos;
  private long lastNanos;

  public Debouncer(Duration quiet, Duration maxDelay) {
    requireNonNull(quiet, "quiet");
    requireNonNull(maxDelay, "maxDelay");
    if (quiet.isNegative() || maxDelay.compareTo(quiet) < 0) {
      throw new IllegalArgumentException(
          "quiet: " + quiet + ", maxDelay: " + maxDelay + " (expected: 0 <= quiet <= maxDelay)");
    }
    this.quietNanos = quiet.toNanos();
    this.maxDelayNanos = maxDelay.toNanos();
  }

  /** Adds a request that arrived at {@code nowNanos}. */
  public synchronized void add(PushRequest request, long nowNanos) {
    if (pending == null) {
      pending = request;
      firstNanos = nowNanos;
    } else {
      pending = pending.merge(request);
    }
    lastNanos = nowNanos;
  }

  /** The merged request, if it is due at {@code nowNanos}; it is then no longer pending. */
  public synchronized Optional<PushRequest> poll(long nowNanos) {
    if (pending == null || nowNanos < dueNanos()) {
      return Optional.empty();
    }
    PushRequest due = pending;
    pending = null;
    return Optional.of(due);
  }

  /** When the pending request falls due, or empty when nothing is pending. */
  public synchronized OptionalLong deadline() {
    return pending == null ? OptionalLong.empty() : OptionalLong.of(dueNanos());
  }

  private long dueNanos() {
    return Math.min(lastNanos + quietNanos, firstNanos + maxDelayNanos);
  }
}
