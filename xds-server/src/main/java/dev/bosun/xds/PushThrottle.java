package dev.bosun.xds;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Turns to send: at most {@code capacity} streams may be sending at once, like istiod's push
 * throttle. gRPC queues a response in memory as soon as it is sent, so without this a connect storm
 * of thousands of sidecars, or a push to all of them, holds every stream's full configuration in
 * send buffers at once. A stream keeps its turn until gRPC has written out what it queued (the
 * stream is ready again), it closes, or {@code turnTimeout} passes; streams waiting are served in
 * order, those that have had a turn before ahead of new ones, so a proxy that started connecting
 * finishes before the next one starts.
 */
final class PushThrottle {
  private final int capacity;
  private final long turnTimeoutNanos;
  private final LongSupplier ticker;
  private final Consumer<XdsStream<?>> resume;

  /** Streams holding a turn, with when they took it. */
  private final Map<XdsStream<?>, Long> holders = new HashMap<>();

  private final LinkedHashSet<XdsStream<?>> returning = new LinkedHashSet<>();
  private final LinkedHashSet<XdsStream<?>> fresh = new LinkedHashSet<>();
  private long waits;

  /** Checks for expired turns while streams wait; daemon, one thread. */
  private final ScheduledExecutorService sweeper =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "bosun-xds-turns");
            thread.setDaemon(true);
            return thread;
          });

  private boolean sweepScheduled;

  /**
   * @param resume called (outside the throttle's lock) when a waiting stream gets its turn: it
   *     should drain the stream
   */
  PushThrottle(
      int capacity,
      java.time.Duration turnTimeout,
      LongSupplier ticker,
      Consumer<XdsStream<?>> resume) {
    this.capacity = capacity;
    this.turnTimeoutNanos = turnTimeout.toNanos();
    this.ticker = ticker;
    this.resume = resume;
  }

  /**
   * Takes (or keeps) a turn for {@code stream}; false when none is free, in which case the stream
   * waits and is resumed when one is.
   */
  synchronized boolean tryHold(XdsStream<?> stream, boolean servedBefore) {
    long now = ticker.getAsLong();
    if (holders.containsKey(stream)
        || (holders.size() < capacity && returning.isEmpty() && fresh.isEmpty())) {
      holders.put(stream, now);
      return true;
    }
    if (!returning.contains(stream) && !fresh.contains(stream)) {
      (servedBefore ? returning : fresh).add(stream);
      waits++;
    }
    scheduleSweep();
    return false;
  }

  /** While streams wait, looks for turns held past the timeout (holders that stopped reading). */
  private void scheduleSweep() {
    if (sweepScheduled) {
      return;
    }
    sweepScheduled = true;
    try {
      sweeper.schedule(this::sweep, turnTimeoutNanos / 2 + 1, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      sweepScheduled = false;
    }
  }

  private void sweep() {
    List<XdsStream<?>> expired = new ArrayList<>();
    synchronized (this) {
      sweepScheduled = false;
      long now = ticker.getAsLong();
      Iterator<Map.Entry<XdsStream<?>, Long>> it = holders.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<XdsStream<?>, Long> holder = it.next();
        if (now - holder.getValue() > turnTimeoutNanos) {
          it.remove();
          expired.add(holder.getKey());
        }
      }
      if (!returning.isEmpty() || !fresh.isEmpty()) {
        scheduleSweep();
      }
    }
    handOn();
    // They may still have more to send: each waits for a turn like any other.
    expired.forEach(resume);
  }

  void close() {
    sweeper.shutdownNow();
  }

  /** {@code stream} has nothing in flight (or closed): its turn goes to the next one waiting. */
  void release(XdsStream<?> stream) {
    boolean held;
    synchronized (this) {
      held = holders.remove(stream) != null;
      if (!held) {
        returning.remove(stream);
        fresh.remove(stream);
      }
    }
    if (held) {
      handOn();
    }
  }

  /** Gives free turns to waiting streams, in order; resumes each outside the lock. */
  private void handOn() {
    while (true) {
      XdsStream<?> next;
      synchronized (this) {
        if (holders.size() >= capacity) {
          break;
        }
        next = poll(returning);
        if (next == null) {
          next = poll(fresh);
        }
        if (next == null) {
          break;
        }
        holders.put(next, ticker.getAsLong());
      }
      resume.accept(next);
    }
  }

  private static XdsStream<?> poll(LinkedHashSet<XdsStream<?>> queue) {
    Iterator<XdsStream<?>> it = queue.iterator();
    if (!it.hasNext()) {
      return null;
    }
    XdsStream<?> next = it.next();
    it.remove();
    return next;
  }

  synchronized int holding() {
    return holders.size();
  }

  synchronized int waiting() {
    return returning.size() + fresh.size();
  }

  /** How many times a stream had to wait for a turn. */
  synchronized long waits() {
    return waits;
  }
}
