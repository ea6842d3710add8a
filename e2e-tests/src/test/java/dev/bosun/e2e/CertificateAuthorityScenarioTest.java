package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.bosun.ca.Pem;
import dev.bosun.ca.api.IstioCertificateResponse;
import dev.bosun.controlplane.security.TokenReviews;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bosun's CA as a workload's agent meets it: the root published in {@code istio-ca-root-cert} (and
 * put back when deleted), {@code CreateCertificate} over TLS on the secure port with the workload's
 * service-account token, a certificate for exactly that identity, and refusals for anything else.
 */
@EnableKubernetesMockClient(crud = true)
class CertificateAuthorityScenarioTest {
  KubernetesClient client;
  KubernetesMockServer server;
  private MeshWorld world;

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  @Test
  void workloadGetsItsOwnIdentity_overTls_trustingThePublishedRoot() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    String root = world.publishedRoot();
    String identity = "spiffe://cluster.local/ns/e2e/sa/orders";
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = generator.generateKeyPair();

    IstioCertificateResponse response =
        WorkloadCertificates.call(
            world.securePort,
            root,
            world.token("orders"),
            WorkloadCertificates.csr(key, identity),
            3600);

    X509Certificate leaf = Pem.certificates(response.getCertChain(0)).get(0);
    X509Certificate last =
        Pem.certificates(response.getCertChain(response.getCertChainCount() - 1)).get(0);
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, identity));
    assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
    assertThat(Pem.encode(last)).isEqualTo(root);
    leaf.verify(last.getPublicKey());

    StatusRuntimeException otherIdentity =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                WorkloadCertificates.call(
                    world.securePort,
                    root,
                    world.token("orders"),
                    WorkloadCertificates.csr(key, "spiffe://cluster.local/ns/e2e/sa/admin"),
                    3600));
    assertThat(otherIdentity.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    StatusRuntimeException badToken =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                WorkloadCertificates.call(
                    world.securePort,
                    root,
                    "not-a-token",
                    WorkloadCertificates.csr(key, identity),
                    3600));
    assertThat(badToken.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

    client.configMaps().inNamespace(MeshWorld.NAMESPACE).withName("istio-ca-root-cert").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                        .configMaps()
                        .inNamespace(MeshWorld.NAMESPACE)
                        .withName("istio-ca-root-cert")
                        .get()
                    != null);
    assertThat(world.publishedRoot()).as("recreated with the same root").isEqualTo(root);
  }
}
