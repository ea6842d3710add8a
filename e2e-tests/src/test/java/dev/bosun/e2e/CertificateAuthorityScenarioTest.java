package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.Pem;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SigningCa;
import dev.bosun.ca.api.IstioCertificateResponse;
import dev.bosun.controlplane.security.TokenReviews;
import dev.bosun.controlplane.xds.RawAdsClient;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
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
  void xdsOnTheTlsPort_needsATokenForTheProxysOwnNamespace() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    String root = world.publishedRoot();

    try (RawAdsClient ads =
        new RawAdsClient(secureChannel(root, world.token("orders")), node(world.namespace))) {
      assertThat(ads.request(XdsTypes.CLUSTER, List.of()).getResourcesCount())
          .as("an agent with its own token gets its config")
          .isPositive();
    }
    try (RawAdsClient ads = new RawAdsClient(secureChannel(root, null), node(world.namespace))) {
      ads.subscribe(XdsTypes.CLUSTER);
      Status refused = ads.failure(Duration.ofSeconds(30));
      assertThat(refused.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(refused.getDescription())
          .isEqualTo("authentication failed: no bearer token in the authorization header");
    }
    try (RawAdsClient ads =
        new RawAdsClient(secureChannel(root, world.token("orders")), node("payments"))) {
      ads.subscribe(XdsTypes.CLUSTER);
      Status refused = ads.failure(Duration.ofSeconds(30));
      assertThat(refused.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(refused.getDescription())
          .startsWith(
              world.local("authorization failed: identity e2e/orders may not speak for proxy"));
    }
  }

  private ManagedChannel secureChannel(String root, String token) throws Exception {
    return WorkloadCertificates.secureChannel(world.securePort, root, token);
  }

  private static Node node(String namespace) {
    return Node.newBuilder()
        .setId(
            "sidecar~10.44.0.9~orders-7d9f.%s~%s.svc.cluster.local".formatted(namespace, namespace))
        .setMetadata(
            Struct.newBuilder()
                .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build()))
        .build();
  }

  @Test
  void aNewPlugInCa_isTakenUpWithoutARestart_aBrokenOneIsNot() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    String selfSigned = world.publishedRoot();
    SigningCa corporate =
        SelfSignedRoot.generate("corp.example", KeyAlgorithm.ecdsaP256(), Clock.systemUTC());
    String corporateRoot = Pem.encode(corporate.signingCertificate());
    cacerts(corporateRoot, Pem.encode(corporate.signingKey()));

    await().atMost(Duration.ofSeconds(60)).until(() -> world.publishedRoot().equals(corporateRoot));
    assertThat(corporateRoot).isNotEqualTo(selfSigned);
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = generator.generateKeyPair();
    String identity = world.local("spiffe://cluster.local/ns/e2e/sa/orders");
    // Trusting only the new root: the serving certificate was reissued from it too.
    IstioCertificateResponse response =
        WorkloadCertificates.call(
            world.securePort,
            corporateRoot,
            world.token("orders"),
            WorkloadCertificates.csr(key, identity),
            3600);
    assertThat(response.getCertChain(response.getCertChainCount() - 1)).isEqualTo(corporateRoot);

    SigningCa other = SelfSignedRoot.generate("other", KeyAlgorithm.ecdsaP256(), Clock.systemUTC());
    cacerts(corporateRoot, Pem.encode(other.signingKey()));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> world.body("/metrics").contains("bosun_ca_reload_errors_total 1.0"));
    assertThat(world.publishedRoot())
        .as("a broken cacerts changes nothing")
        .isEqualTo(corporateRoot);
    assertThat(
            WorkloadCertificates.call(
                    world.securePort,
                    corporateRoot,
                    world.token("orders"),
                    WorkloadCertificates.csr(key, identity),
                    3600)
                .getCertChainCount())
        .isEqualTo(2);
  }

  private void cacerts(String root, String key) {
    world
        .client
        .secrets()
        .inNamespace(world.caNamespace)
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withNamespace(world.caNamespace)
                .withName("cacerts")
                .endMetadata()
                .withStringData(
                    java.util.Map.of(
                        "ca-cert.pem", root,
                        "ca-key.pem", key,
                        "cert-chain.pem", root,
                        "root-cert.pem", root))
                .build())
        .createOr(existing -> existing.update());
  }

  @Test
  void workloadGetsItsOwnIdentity_overTls_trustingThePublishedRoot() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    String root = world.publishedRoot();
    String identity = world.local("spiffe://cluster.local/ns/e2e/sa/orders");
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
                    WorkloadCertificates.csr(
                        key, world.local("spiffe://cluster.local/ns/e2e/sa/admin")),
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

    world.client.configMaps().inNamespace(world.namespace).withName("istio-ca-root-cert").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                world
                        .client
                        .configMaps()
                        .inNamespace(world.namespace)
                        .withName("istio-ca-root-cert")
                        .get()
                    != null);
    assertThat(world.publishedRoot()).as("recreated with the same root").isEqualTo(root);
  }
}
