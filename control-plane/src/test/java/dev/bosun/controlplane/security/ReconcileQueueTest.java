package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReconcileQueueTest {

  @Test
  void retryDelay_doublesFromTheFirst_upToTheMax() {
    try (ReconcileQueue queue =
        new ReconcileQueue("test", key -> {}, Duration.ofMillis(100), Duration.ofSeconds(1))) {
      assertThat(queue.retryDelay(1)).isEqualTo(Duration.ofMillis(100));
      assertThat(queue.retryDelay(2)).isEqualTo(Duration.ofMillis(200));
      assertThat(queue.retryDelay(4)).isEqualTo(Duration.ofMillis(800));
      assertThat(queue.retryDelay(5)).isEqualTo(Duration.ofSeconds(1));
      assertThat(queue.retryDelay(1_000)).isEqualTo(Duration.ofSeconds(1));
    }
  }

  @Test
  void constructor_withRetryBelowOneMillisecond_isRejected() {
    assertThatThrownBy(
            () -> new ReconcileQueue("test", key -> {}, Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessageContaining("firstRetry: PT0S");
  }

  @Test
  void failingKey_isRetriedUntilItSucceeds() {
    AtomicInteger calls = new AtomicInteger();
    try (ReconcileQueue queue =
        new ReconcileQueue(
            "test",
            key -> {
              if (calls.incrementAndGet() <= 3) {
                throw new IllegalStateException("API server unavailable");
              }
            },
            Duration.ofMillis(1),
            Duration.ofMillis(5))) {
      queue.add("shop");

      await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 4);
    }
  }

  @Test
  void keyAddedWhileItWaits_runsOnce() {
    CountDownLatch blocker = new CountDownLatch(1);
    List<String> runs = new CopyOnWriteArrayList<>();
    try (ReconcileQueue queue =
        new ReconcileQueue(
            "test",
            key -> {
              if (key.equals("first")) {
                awaitQuietly(blocker);
              }
              runs.add(key);
            },
            Duration.ofMillis(1),
            Duration.ofMillis(5))) {
      queue.add("first");
      queue.add("shop");
      queue.add("shop");
      queue.add("shop");
      queue.add("last");
      blocker.countDown();

      await().atMost(Duration.ofSeconds(10)).until(() -> runs.contains("last"));
      assertThat(runs).containsExactly("first", "shop", "last");
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
