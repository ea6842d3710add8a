package dev.bosun.xds;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Admission of new streams, so a reconnect storm (every proxy after a restart) is spread out
 * instead of landing at once: a token bucket of {@code burst} refilled at {@code perSecond}. As
 * istiod does, a new stream that would get a token within {@link #MAX_WAIT} waits for it and is
 * then served; only beyond that is it refused (RESOURCE_EXHAUSTED), to retry with backoff or try
 * another replica.
 */
final class StreamRateLimiter {
  /** istiod waits up to one second for a request token before refusing. */
  static final Duration MAX_WAIT = Duration.ofSeconds(1);

  private final Bucket bucket;

  StreamRateLimiter(double perSecond, int burst, LongSupplier ticker) {
    Duration perToken = Duration.ofNanos(Math.max(1, Math.round(1e9 / perSecond)));
    this.bucket =
        Bucket.builder()
            .addLimit(
                Bandwidth.builder()
                    .capacity(burst)
                    .refillGreedy(1, perToken)
                    .initialTokens(burst)
                    .build())
            .withCustomTimePrecision(
                new TimeMeter() {
                  @Override
                  public long currentTimeNanos() {
                    return ticker.getAsLong();
                  }

                  @Override
                  public boolean isWallClockBased() {
                    return false;
                  }
                })
            .build();
  }

  /**
   * Takes a token, waiting for it when one comes within {@link #MAX_WAIT}; false when none would.
   */
  boolean acquire() throws InterruptedException {
    return bucket.asBlocking().tryConsume(1, MAX_WAIT);
  }
}
