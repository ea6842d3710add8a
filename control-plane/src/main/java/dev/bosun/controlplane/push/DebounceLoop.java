package dev.bosun.controlplane.push;

import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Debouncer} on its own thread: sleeps until the pending request is due, then hands
 * it to the consumer (which builds a snapshot and pushes). A failing consumer is logged and the
 * loop goes on.
 */
public final class DebounceLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DebounceLoop.class);

  private final Debouncer debouncer;
  private final Ticker ticker;
  private final Consumer<PushRequest> consumer;
  private final Thread thread;
  private final Object signal = new Object();
  private volatile boolean running = true;

  public DebounceLoop(Debouncer debouncer, Ticker ticker, Consumer<PushRequest> consumer) {
    this.debouncer = debouncer;
    this.ticker = ticker;
    this.consumer = consumer;
    this.thread = new Thread(this::run, "bosun-debounce");
    this.thread.setDaemon(true);
  }

  public DebounceLoop start() {
    thread.start();
    return this;
  }

  /** Adds a request now and wakes the loop. */
  public void submit(PushRequest request) {
    debouncer.add(request, ticker.nanos());
    synchronized (signal) {
      signal.notifyAll();
    }
  }

  private void run() {
    while (running) {
      try {
        long now = ticker.nanos();
        var due = debouncer.poll(now);
        if (due.isPresent()) {
          consumer.accept(due.get());
          continue;
        }
        OptionalLong deadline = debouncer.deadline();
        synchronized (signal) {
          if (deadline.isEmpty()) {
            signal.wait(1000);
          } else {
            long waitNanos = deadline.getAsLong() - ticker.nanos();
            if (waitNanos > 0) {
              TimeUnit.NANOSECONDS.timedWait(signal, waitNanos);
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.error("push failed; the next change will try again", e);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
