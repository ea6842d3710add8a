package dev.bosun.controlplane.push;

/** A source of monotonic time in nanoseconds; tests substitute a fake one. */
@FunctionalInterface
public interface Ticker {
  Ticker SYSTEM = System::nanoTime;

  long nanos();
}
