package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.ca.IstioCaSecrets;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.Pem;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.WorkloadCertificateOptions;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The self-signed root renewed before it expires, as istiod renews it: untouched while most of its
 * life is left, renewed in the last 20% with the same key (so what the old root signed still
 * verifies), stored in {@code istio-ca-secret}, taken up and announced; a plugged-in CA never.
 */
@EnableKubernetesMockClient(crud = true)
class RootRenewalTest {
  KubernetesClient client;

  /** A clock the test moves. */
  private static final class MovingClock extends Clock {
    final AtomicReference<Instant> now =
        new AtomicReference<>(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  }

  private MeshCertificateAuthority authority(Clock clock) throws Exception {
    return new MeshCertificateAuthority(
        client,
        null,
        new MeshCertificateAuthority.Settings(
            "istio-system",
            "cluster.local",
            KeyAlgorithm.ecdsaP256(),
            WorkloadCertificateOptions.DEFAULTS,
            "istio-ca",
            10,
            10,
            List.of("istiod.istio-system.svc"),
            null),
        new SimpleMeterRegistry(),
        clock);
  }

  private X509Certificate storedRoot() {
    String pem =
        new String(
            Base64.getDecoder()
                .decode(
                    client
                        .secrets()
                        .inNamespace("istio-system")
                        .withName(IstioCaSecrets.SELF_SIGNED_SECRET)
                        .get()
                        .getData()
                        .get(IstioCaSecrets.ROOT_CERT)),
            StandardCharsets.UTF_8);
    return Pem.certificates(pem).get(0);
  }

  @Test
  void selfSignedRoot_isRenewedInItsLastFifth_withTheSameKey_andAnnounced() throws Exception {
    MovingClock clock = new MovingClock();
    try (MeshCertificateAuthority authority = authority(clock)) {
      AtomicInteger announced = new AtomicInteger();
      authority.onRootChange(announced::incrementAndGet);
      X509Certificate first = storedRoot();
      assertThat(authority.rootPem()).isEqualTo(Pem.encode(first));

      clock.now.set(clock.instant().plus(Duration.ofDays(2900)));
      assertThat(authority.checkRoot()).as("more than a fifth of 3650 days left").isFalse();
      assertThat(announced).hasValue(0);

      clock.now.set(clock.instant().plus(Duration.ofDays(100)));
      assertThat(authority.checkRoot()).as("less than a fifth left").isTrue();

      X509Certificate renewed = storedRoot();
      assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
      assertThat(renewed.getPublicKey()).isEqualTo(first.getPublicKey());
      assertThat(renewed.getNotAfter().toInstant())
          .isEqualTo(clock.instant().plus(SelfSignedRoot.DEFAULT_VALIDITY));
      first.verify(renewed.getPublicKey());
      assertThat(authority.rootPem()).as("taken up").isEqualTo(Pem.encode(renewed));
      assertThat(announced).as("published at once").hasValue(1);
      assertThat(authority.checkRoot()).as("the new one has its whole life ahead").isFalse();
    }
  }

  @Test
  void pluggedInCa_isNeverRenewedByBosun() throws Exception {
    MovingClock clock = new MovingClock();
    var corporate = SelfSignedRoot.generate("corp.example", KeyAlgorithm.ecdsaP256(), clock);
    String root = Pem.encode(corporate.signingCertificate());
    client
        .secrets()
        .inNamespace("istio-system")
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withNamespace("istio-system")
                .withName(IstioCaSecrets.PLUG_IN_SECRET)
                .endMetadata()
                .withStringData(
                    java.util.Map.of(
                        IstioCaSecrets.CA_CERT, root,
                        IstioCaSecrets.CA_KEY, Pem.encode(corporate.signingKey()),
                        IstioCaSecrets.CERT_CHAIN, root,
                        IstioCaSecrets.ROOT_CERT, root))
                .build())
        .create();
    try (MeshCertificateAuthority authority = authority(clock)) {
      clock.now.set(clock.instant().plus(Duration.ofDays(3600)));
      assertThat(authority.checkRoot()).isFalse();
      assertThat(authority.rootPem()).isEqualTo(root);
    }
  }
}
