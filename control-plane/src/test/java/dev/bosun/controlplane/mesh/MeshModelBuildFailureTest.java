package dev.bosun.controlplane.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.Fixtures;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A snapshot build that throws (here: reading the mesh config) keeps the last snapshot, is counted
 * and reported, and is retried until it succeeds, without waiting for another change.
 */
class MeshModelBuildFailureTest {
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private MeshModel model;

  private MeshModel model() {
    model =
        new MeshModel(
            MeshSettings.DEFAULTS,
            meters,
            Ticker.SYSTEM,
            Clock.systemUTC(),
            Set.of("test"),
            new UpstreamTlsChangeFilter(),
            () -> {
              if (failuresLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("injected: mesh config unreadable");
              }
              return MeshConfig.DEFAULTS;
            });
    return model.start();
  }

  @AfterEach
  void close() {
    model.close();
  }

  private double errors() {
    return meters.counter("bosun_snapshot_build_errors").count();
  }

  @Test
  void failingFirstBuild_isReported_andRetriedUntilItSucceeds() {
    failuresLeft.set(2);
    MeshModel mesh = model();
    mesh.kubernetesUpserted(Fixtures.service("demo", "echo", 7070, "grpc"), "test");
    mesh.synced("test");

    await().atMost(Duration.ofSeconds(10)).until(() -> errors() >= 1);
    assertThat(mesh.ready()).isFalse();
    assertThat(mesh.buildError()).hasValueSatisfying(e -> assertThat(e).contains("injected"));

    await().atMost(Duration.ofSeconds(20)).until(mesh::ready);
    assertThat(errors()).isEqualTo(2);
    assertThat(mesh.buildError()).isEmpty();
    assertThat(mesh.snapshot().services()).containsKey("echo.demo.svc.cluster.local");
  }

  @Test
  void failingLaterBuild_keepsTheLastSnapshotInForce() {
    MeshModel mesh = model();
    mesh.kubernetesUpserted(Fixtures.service("demo", "echo", 7070, "grpc"), "test");
    mesh.synced("test");
    await().atMost(Duration.ofSeconds(10)).until(mesh::ready);
    long before = mesh.snapshot().version();

    failuresLeft.set(1);
    mesh.kubernetesUpserted(Fixtures.service("demo", "web", 8080, "http"), "test");
    await().atMost(Duration.ofSeconds(10)).until(() -> errors() >= 1);
    assertThat(mesh.ready()).as("the last snapshot still serves").isTrue();
    assertThat(mesh.snapshot().version()).isEqualTo(before);

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> mesh.snapshot().services().containsKey("web.demo.svc.cluster.local"));
    assertThat(mesh.buildError()).isEmpty();
  }
}
