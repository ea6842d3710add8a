package dev.bosun.e2e;

import static dev.bosun.e2e.Rpcs.call;
import static dev.bosun.e2e.Rpcs.outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.security.TokenReviews;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Workload security end to end: proxyless gRPC workloads get certificates from Bosun's CA through
 * {@code CreateCertificate} (token, then files, then grpc-java's {@code file_watcher} provider),
 * talk over mTLS as Bosun's config says, a plaintext client is refused under PeerAuthentication
 * STRICT, and AuthorizationPolicy ALLOW and DENY decide which calls the server takes.
 */
@EnableKubernetesMockClient(crud = true)
class SecurityScenariosTest {
  KubernetesClient client;
  KubernetesMockServer server;
  private MeshWorld world;
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  private static String peerAuthentication(String mode) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: vault-mtls, namespace: e2e}
        spec:
          selector: {matchLabels: {app: vault}}
          mtls: {mode: %s}
        """
        .formatted(mode);
  }

  @Test
  void mtlsWithCertificatesFromBosun_strictRefusesPlaintext_authorizationAllowsAndDenies()
      throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    world.apply(peerAuthentication("STRICT"));
    world.service("vault");
    Backend vault = world.xdsBackend("vault", "vault-0", Map.of("app", "vault"));

    ManagedChannel teller = world.secureChannel(world.host("vault"), "teller");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> outcome(teller, Map.of(), Duration.ofSeconds(5)).equals("vault-0"));
    assertThat(vault.lastPeer)
        .as("the server saw teller's certificate from Bosun's CA")
        .isEqualTo(world.local("spiffe://cluster.local/ns/e2e/sa/teller"));

    ManagedChannel plaintext =
        Grpc.newChannelBuilder("127.0.0.1:" + vault.port(), InsecureChannelCredentials.create())
            .build();
    try {
      // Without wait-for-ready, so the refused connection shows as the RPC's status.
      Status refused =
          catchThrowableOfType(
                  StatusRuntimeException.class,
                  () ->
                      HealthGrpc.newBlockingStub(plaintext)
                          .withDeadlineAfter(5, TimeUnit.SECONDS)
                          .check(HealthCheckRequest.getDefaultInstance()))
              .getStatus();
      assertThat(refused.getCode())
          .as("a plaintext client under STRICT")
          .isEqualTo(Code.UNAVAILABLE);
      assertThat(vault.lastPeer).isEqualTo(world.local("spiffe://cluster.local/ns/e2e/sa/teller"));
    } finally {
      plaintext.shutdownNow();
    }

    // The server's listener follows PeerAuthentication live: DISABLE lets plaintext in, STRICT
    // shuts it out again.
    world.apply(peerAuthentication("DISABLE"));
    ManagedChannel direct =
        Grpc.newChannelBuilder("127.0.0.1:" + vault.port(), InsecureChannelCredentials.create())
            .build();
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> outcome(direct, Map.of(), Duration.ofSeconds(2)).equals("vault-0"));
      assertThat(vault.lastPeer).isEqualTo("plaintext");
      world.apply(peerAuthentication("STRICT"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  outcome(teller, Map.of(), Duration.ofSeconds(2)).equals("vault-0")
                      && vault.lastPeer.equals(
                          world.local("spiffe://cluster.local/ns/e2e/sa/teller")));
    } finally {
      direct.shutdownNow();
    }

    world.apply(
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: vault-tellers-only, namespace: e2e}
        spec:
          selector: {matchLabels: {app: vault}}
          action: ALLOW
          rules:
          - from: [{source: {principals: ["cluster.local/ns/e2e/sa/teller"]}}]
        """);
    ManagedChannel intruder = world.secureChannel(world.host("vault"), "intruder");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> outcome(intruder, Map.of(), DEADLINE).equals("PERMISSION_DENIED"));
    assertThat(call(teller, Map.of(), DEADLINE)).as("teller is allowed").isEqualTo("vault-0");

    world.apply(
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: vault-no-health-checks, namespace: e2e}
        spec:
          selector: {matchLabels: {app: vault}}
          action: DENY
          rules:
          - to: [{operation: {paths: ["/grpc.health.v1.Health/Check"]}}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> outcome(teller, Map.of(), DEADLINE).equals("PERMISSION_DENIED"));
    assertThat(outcome(intruder, Map.of(), DEADLINE)).isEqualTo("PERMISSION_DENIED");
  }

  /**
   * grpc-xds has no JWT filter, so a proxyless server cannot verify end-user tokens: an ALLOW rule
   * that needs a request principal is left out (the call is refused even with a token), never
   * silently allowed, while the policy's other rules still decide, as Bosun documents.
   */
  @Test
  void endUserIdentityOnAProxylessServer_failsClosed_otherRulesStillDecide() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    world.service("ledger");
    world.xdsBackend("ledger", "ledger-0", Map.of("app", "ledger"));
    ManagedChannel teller = world.secureChannel(world.host("ledger"), "teller");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> outcome(teller, Map.of(), Duration.ofSeconds(5)).equals("ledger-0"));

    world.apply(
        """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: ledger-jwt, namespace: e2e}
        spec:
          selector: {matchLabels: {app: ledger}}
          jwtRules:
          - issuer: https://id.example.com
            jwks: '{"keys":[]}'
        """);
    world.apply(
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ledger-users, namespace: e2e}
        spec:
          selector: {matchLabels: {app: ledger}}
          rules:
          - from: [{source: {requestPrincipals: ["https://id.example.com/*"]}}]
        """);
    Map<String, String> bearer = Map.of("authorization", "Bearer eyJhbGciOiJub25lIn0.e30.");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> outcome(teller, bearer, DEADLINE).equals("PERMISSION_DENIED"));

    world.apply(
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ledger-users, namespace: e2e}
        spec:
          selector: {matchLabels: {app: ledger}}
          rules:
          - from: [{source: {requestPrincipals: ["https://id.example.com/*"]}}]
          - from: [{source: {principals: ["cluster.local/ns/e2e/sa/teller"]}}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> outcome(teller, Map.of(), DEADLINE).equals("ledger-0"));
  }
}
