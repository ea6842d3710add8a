package dev.bosun.controlplane.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.Fixtures;
import dev.bosun.controlplane.Fixtures.Ep;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.controlplane.push.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Endpoints-only pushes stay endpoints-only unless the endpoints change what clusters carry: the
 * servers' identities (service accounts) or whether every endpoint accepts Istio mTLS.
 */
class MeshModelPushTest {
  private static final String HOST = "echo.demo.svc.cluster.local";
  private static final Map<String, String> MESH =
      Map.of("app", "echo", "security.istio.io/tlsMode", "istio");

  private final List<MeshModel.SnapshotUpdate> updates = new ArrayList<>();
  private MeshModel model;

  @BeforeEach
  void start() {
    model =
        new MeshModel(
            MeshSettings.DEFAULTS,
            new SimpleMeterRegistry(),
            Ticker.SYSTEM,
            Clock.systemUTC(),
            Set.of("test"));
    model.addListener(updates::add);
    model.kubernetesUpserted(Fixtures.service("demo", "echo", 7070, "grpc"), "test");
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-1", "10.0.0.1", "echo", MESH), "test");
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-2", "10.0.0.2", "echo", MESH), "test");
    model.kubernetesUpserted(
        Fixtures.slice("demo", "echo", "echo", "grpc", 7070, Ep.ready("10.0.0.1", "echo-1")),
        "test");
    model.synced("test");
    model.push(PushRequest.everything("initial", 0));
  }

  private PushRequest pushEndpoints() {
    model.push(PushRequest.endpoints(Set.of(HOST), "endpoints changed", 0));
    return updates.get(updates.size() - 1).request();
  }

  @Test
  void push_newEndpointWithSameIdentity_staysEndpointsOnly() {
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.2", "echo-2")),
        "test");
    assertThat(pushEndpoints().full()).isFalse();
  }

  @Test
  void push_newServiceAccount_becomesFull() {
    model.kubernetesUpserted(Fixtures.pod("demo", "echo-3", "10.0.0.3", "other", MESH), "test");
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.3", "echo-3")),
        "test");
    PushRequest request = pushEndpoints();
    assertThat(request.full()).isTrue();
    assertThat(request.services()).containsExactly(HOST);
  }

  @Test
  void push_endpointWithoutSidecar_becomesFull() {
    model.kubernetesUpserted(
        Fixtures.pod("demo", "echo-3", "10.0.0.3", "echo", Map.of("app", "echo")), "test");
    model.kubernetesUpserted(
        Fixtures.slice(
            "demo",
            "echo",
            "echo",
            "grpc",
            7070,
            Ep.ready("10.0.0.1", "echo-1"),
            Ep.ready("10.0.0.3", "echo-3")),
        "test");
    assertThat(pushEndpoints().full()).isTrue();
  }
}
