package dev.bosun.xds;

/**
 * A token bucket for new streams, so a reconnect storm (every proxy after a restart) is spread out
 * instead of landing at once. Refused streams get RESOURCE_EXHAUSTED and retry with backoff.
 */
final class StreamRateLimiter {
  private final double perNano;
  private final double burst;
  private final java.util.function.LongSupplier ticker;
  private double tokens;
  private long last;

  StreamRateLimiter(double perSecond, int burst, java.util.function.LongSupplier ticker) {
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.ticker = ticker;
    this.tokens = burst;
    this.last = ticker.getAsLong();
  }

  synchronized boolean tryAcquire() {
    long now = ticker.getAsLong();
    tokens = Math.min(burst, tokens + (now - last) * perNano);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
