package dev.bosun.controlplane.security;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a reconciler for keys on one thread: a key asked for again while it waits runs once, and a
 * key whose reconciliation throws is retried after a delay that doubles from {@code firstRetry} up
 * to {@code maxRetry}, for as long as the queue is open.
 *
 * <p>The reconciler reads the desired and the observed state itself each time, so any number of
 * requests for a key need only one run, and a retry needs no memory of what failed.
 */
public final class ReconcileQueue implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReconcileQueue.class);

  private final String name;
  private final Consumer<String> reconciler;
  private final Duration firstRetry;
  private final Duration maxRetry;
  private final ScheduledExecutorService worker;
  private final Set<String> waiting = ConcurrentHashMap.newKeySet();
  private final Set<String> retrying = ConcurrentHashMap.newKeySet();
  // Failures in a row per key; only touched on the worker thread.
  private final Map<String, Integer> failures = new HashMap<>();

  public ReconcileQueue(
      String name, Consumer<String> reconciler, Duration firstRetry, Duration maxRetry) {
    this.name = requireNonNull(name, "name");
    this.reconciler = requireNonNull(reconciler, "reconciler");
    this.firstRetry = requireNonNull(firstRetry, "firstRetry");
    this.maxRetry = requireNonNull(maxRetry, "maxRetry");
    if (firstRetry.toMillis() < 1 || maxRetry.compareTo(firstRetry) < 0) {
      throw new IllegalArgumentException(
          "firstRetry: %s, maxRetry: %s (expected: 1ms <= firstRetry <= maxRetry)"
              .formatted(firstRetry, maxRetry));
    }
    this.worker =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "bosun-reconcile " + name);
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Asks for {@code key} to be reconciled; does nothing once closed. */
  public void add(String key) {
    requireNonNull(key, "key");
    if (waiting.add(key)) {
      try {
        worker.execute(() -> run(key));
      } catch (RejectedExecutionException closed) {
        waiting.remove(key);
      }
    }
  }

  private void run(String key) {
    // Removed before running, so a change seen while this run reads the state queues another run.
    waiting.remove(key);
    try {
      reconciler.accept(key);
      failures.remove(key);
    } catch (RuntimeException e) {
      int attempt = failures.merge(key, 1, Integer::sum);
      Duration delay = retryDelay(attempt);
      log.warn(
          "{} {}: attempt {} failed, retrying in {} ms: {}",
          name,
          key,
          attempt,
          delay.toMillis(),
          e.toString());
      if (retrying.add(key)) {
        try {
          worker.schedule(
              () -> {
                retrying.remove(key);
                add(key);
              },
              delay.toMillis(),
              TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
          retrying.remove(key);
        }
      }
    }
  }

  /** The pause before retry number {@code attempt} (1 for the first). */
  Duration retryDelay(int attempt) {
    int doublings = Math.min(Math.max(attempt - 1, 0), 30);
    long millis = firstRetry.toMillis() << doublings;
    return millis >= maxRetry.toMillis() ? maxRetry : Duration.ofMillis(millis);
  }

  /**
   * Drops waiting keys and retries, and waits (up to {@code grace}) for a running reconciliation to
   * finish, so no write starts after this returns.
   */
  void close(Duration grace) {
    worker.shutdownNow();
    try {
      if (!worker.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("{}: a reconciliation was still running after {} ms", name, grace.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
