package dev.bosun.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.crd.IstioKind;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The debouncer under fake time: no sleeps, exact boundaries. */
class DebouncerTest {
  private static final long MS = 1_000_000L;
  private final Debouncer debouncer = new Debouncer(Duration.ofMillis(100), Duration.ofSeconds(10));

  @Test
  void poll_beforeQuietPeriod_returnsNothing_thenReleasesAtQuietPeriod() {
    debouncer.add(PushRequest.endpoints(Set.of("a"), "slice a", 0), 0);
    assertThat(debouncer.poll(99 * MS)).isEmpty();
    assertThat(debouncer.deadline()).hasValue(100 * MS);
    assertThat(debouncer.poll(100 * MS)).isPresent();
    assertThat(debouncer.poll(200 * MS)).isEmpty();
    assertThat(debouncer.deadline()).isEmpty();
  }

  @Test
  void burst_isCoalescedIntoOneRequest_withEverythingThatChanged() {
    ConfigKey vs = new ConfigKey(IstioKind.VIRTUAL_SERVICE, "default", "reviews");
    debouncer.add(PushRequest.endpoints(Set.of("a"), "slice a", 0), 0);
    debouncer.add(PushRequest.endpoints(Set.of("b"), "slice b", 50 * MS), 50 * MS);
    debouncer.add(PushRequest.config(vs, "vs", 90 * MS), 90 * MS);
    assertThat(debouncer.poll(189 * MS)).isEmpty();
    PushRequest merged = debouncer.poll(190 * MS).orElseThrow();
    assertThat(merged.full()).isTrue();
    assertThat(merged.endpoints()).containsExactlyInAnyOrder("a", "b");
    assertThat(merged.configs()).containsExactly(vs);
    assertThat(merged.reasons()).containsExactlyInAnyOrder("slice a", "slice b", "vs");
    assertThat(merged.startNanos()).isZero();
  }

  @Test
  void endpointOnlyBurst_staysEndpointsOnly() {
    debouncer.add(PushRequest.endpoints(Set.of("a"), "x", 0), 0);
    debouncer.add(PushRequest.endpoints(Set.of("a", "c"), "y", 10 * MS), 10 * MS);
    PushRequest merged = debouncer.poll(110 * MS).orElseThrow();
    assertThat(merged.full()).isFalse();
    assertThat(merged.endpoints()).containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void neverQuiet_isReleasedAtMaximumDelay() {
    long t = 0;
    debouncer.add(PushRequest.everything("start", t), t);
    while (t < 10_000 * MS) {
      t += 50 * MS;
      if (t < 10_000 * MS) {
        assertThat(debouncer.poll(t)).as("at %d ms", t / MS).isEmpty();
      }
      debouncer.add(PushRequest.endpoints(Set.of("h"), "churn", t), t);
    }
    assertThat(debouncer.poll(10_000 * MS)).isPresent();
  }

  @Test
  void settings_mustBeOrdered() {
    assertThatThrownBy(() -> new Debouncer(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessage("quiet: PT2S, maxDelay: PT1S (expected: 0 <= quiet <= maxDelay)");
  }
}
