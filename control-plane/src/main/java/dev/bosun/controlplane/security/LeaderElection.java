package dev.bosun.controlplane.security;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects one Bosun replica on a Kubernetes Lease, for work that must run once per cluster (istiod
 * does the same for its namespace controller).
 *
 * <p>fabric8's {@link LeaderElector} runs one term: it acquires, renews, and when renewal fails
 * (another holder, or the API server unreachable past the renew deadline) it stops leading and is
 * spent. This class starts a fresh elector after each term so the replica keeps competing for as
 * long as it runs, and delivers the callbacks on a thread of its own: the elector calls them while
 * holding its lock, where slow or failing code would stall or end the election.
 *
 * <p>The Lease calls go through a client of their own that does not retry and gives up on a request
 * after half the gap between renew deadline and lease duration: fabric8's default retries can hold
 * one call for about 20 s while the API server is unreachable, long enough for the lease to expire
 * and another replica to lead while this one still believes it does.
 */
public final class LeaderElection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

  private final KubernetesClient client;
  private final LeaderElectionSettings settings;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService callbacks;

  private Runnable onStartLeading;
  private Runnable onStopLeading;
  private CompletableFuture<?> term;
  private boolean started;
  private boolean closed;
  // Only read and written on the callbacks thread.
  private boolean leading;
  private volatile boolean leader;

  public LeaderElection(KubernetesClient client, LeaderElectionSettings settings) {
    requireNonNull(client, "client");
    this.settings = requireNonNull(settings, "settings");
    this.client = leaseClient(client, settings);
    String lease = settings.namespace() + "/" + settings.leaseName();
    this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("bosun-election " + lease));
    this.callbacks = Executors.newSingleThreadExecutor(daemon("bosun-leader " + lease));
  }

  /**
   * Starts campaigning. {@code onStartLeading} runs each time this replica becomes leader and
   * {@code onStopLeading} each time it stops (lost the Lease, could not renew it in time, or
   * closed); the two alternate, on one thread, starting with {@code onStartLeading}.
   */
  public synchronized LeaderElection start(Runnable onStartLeading, Runnable onStopLeading) {
    requireNonNull(onStartLeading, "onStartLeading");
    requireNonNull(onStopLeading, "onStopLeading");
    if (started || closed) {
      throw new IllegalStateException(
          "leader election on " + settings.leaseName() + " was already started");
    }
    started = true;
    this.onStartLeading = onStartLeading;
    this.onStopLeading = onStopLeading;
    log.info(
        "campaigning for lease {}/{} as {}",
        settings.namespace(),
        settings.leaseName(),
        settings.identity());
    scheduler.execute(this::campaign);
    return this;
  }

  private static KubernetesClient leaseClient(
      KubernetesClient client, LeaderElectionSettings settings) {
    return FailFastClient.of(
        client, settings.leaseDuration().minus(settings.renewDeadline()).dividedBy(2));
  }

  /** Whether this replica held the Lease at its last acquisition or renewal. */
  public boolean isLeader() {
    return leader;
  }

  /** This replica's holder identity on the Lease. */
  public String identity() {
    return settings.identity();
  }

  private void campaign() {
    CompletableFuture<?> current;
    synchronized (this) {
      if (closed) {
        return;
      }
      LeaderElector elector = client.leaderElector().withConfig(config()).build();
      current = elector.start();
      term = current;
    }
    current.whenComplete(
        (ok, error) -> {
          if (error != null && !(error instanceof CancellationException)) {
            log.warn("lease {}: election term ended: {}", settings.leaseName(), error.toString());
          }
          synchronized (this) {
            if (!closed) {
              scheduler.schedule(
                  this::campaign, settings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
            }
          }
        });
  }

  private LeaderElectionConfig config() {
    Lock lock =
        new TranslatingLock(
            new LeaseLock(settings.namespace(), settings.leaseName(), settings.identity()));
    return new LeaderElectionConfigBuilder()
        .withName(settings.leaseName())
        .withLock(lock)
        .withLeaseDuration(settings.leaseDuration())
        .withRenewDeadline(settings.renewDeadline())
        .withRetryPeriod(settings.retryPeriod())
        .withReleaseOnCancel(true)
        .withLeaderCallbacks(
            new LeaderCallbacks(() -> changed(true), () -> changed(false), newLeader -> {}))
        .build();
  }

  private void changed(boolean nowLeading) {
    leader = nowLeading;
    try {
      callbacks.execute(() -> deliver(nowLeading));
    } catch (RejectedExecutionException e) {
      // Closed: close() delivered the final stop itself.
    }
  }

  private void deliver(boolean nowLeading) {
    if (leading == nowLeading) {
      return;
    }
    leading = nowLeading;
    log.info(
        "{} {} lease {}/{}",
        settings.identity(),
        nowLeading ? "acquired" : "lost",
        settings.namespace(),
        settings.leaseName());
    try {
      (nowLeading ? onStartLeading : onStopLeading).run();
    } catch (RuntimeException e) {
      log.error(
          "lease {}: {} callback failed",
          settings.leaseName(),
          nowLeading ? "start-leading" : "stop-leading",
          e);
    }
  }

  /**
   * Stops campaigning. A leader releases the Lease, which fabric8 does by cutting it to one second
   * from now, so another replica takes over within about a second and a retry period instead of a
   * whole lease duration; its {@code onStopLeading} has run when this returns.
   */
  @Override
  public void close() {
    CompletableFuture<?> current;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      current = term;
    }
    scheduler.shutdownNow();
    if (current != null) {
      // Cancelling runs fabric8's stop-leading path on this thread: release, then the callback.
      current.cancel(true);
    }
    callbacks.execute(() -> deliver(false));
    callbacks.shutdown();
    try {
      if (!callbacks.awaitTermination(settings.renewDeadline().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("lease {}: stop-leading callback still running", settings.leaseName());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    leader = false;
    client.close();
  }

  private static ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * Reports every failure of the Lease calls as a {@link KubernetesClientException}: fabric8's
   * elector retries only those, and any other exception (a malformed Lease someone edited, say)
   * would end its acquire loop without ever completing the term, leaving this replica out of the
   * election for good.
   */
  private record TranslatingLock(Lock delegate) implements Lock {
    @Override
    public LeaderElectionRecord get(KubernetesClient client) {
      try {
        return delegate.get(client);
      } catch (KubernetesClientException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new KubernetesClientException(delegate.describe() + ": " + e, e);
      }
    }

    @Override
    public void create(KubernetesClient client, LeaderElectionRecord record) {
      try {
        delegate.create(client, record);
      } catch (KubernetesClientException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new KubernetesClientException(delegate.describe() + ": " + e, e);
      }
    }

    @Override
    public void update(KubernetesClient client, LeaderElectionRecord record) {
      try {
        delegate.update(client, record);
      } catch (KubernetesClientException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new KubernetesClientException(delegate.describe() + ": " + e, e);
      }
    }

    @Override
    public String identity() {
      return delegate.identity();
    }

    @Override
    public String describe() {
      return delegate.describe();
    }
  }
}
