package dev.bosun.ca;

import static dev.bosun.ca.TestPki.CLOCK;
import static dev.bosun.ca.TestPki.NOW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;

class SelfSignedRootTest {
  @Test
  void generate_defaults_p256RootForTenYears() throws Exception {
    SigningCa ca = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
    X509Certificate root = ca.signingCertificate();

    assertThat(ca.isSelfSigned()).isTrue();
    assertThat(ca.roots()).containsExactly(root);
    assertThat(ca.intermediates()).isEmpty();
    assertThat(root.getSubjectX500Principal().getName()).isEqualTo("O=cluster.local");
    assertThat(root.getIssuerX500Principal()).isEqualTo(root.getSubjectX500Principal());
    root.verify(root.getPublicKey());
    assertThat(root.getPublicKey()).isInstanceOf(ECPublicKey.class);
    assertThat(root.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(root.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
    assertThat(root.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(2)));
    assertThat(root.getSerialNumber().signum()).isPositive();
    assertThat(root.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
  }

  @Test
  void generate_root_isCriticalCaThatSignsCertificatesAndCrls() {
    X509Certificate root =
        SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK)
            .signingCertificate();

    assertThat(root.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
    assertThat(root.getCriticalExtensionOIDs())
        .containsExactlyInAnyOrder(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
    // digitalSignature(0), keyCertSign(5), cRLSign(6)
    assertThat(root.getKeyUsage()).startsWith(true, false, false, false, false, true, true, false);
    byte[] ski = root.getExtensionValue(Extension.subjectKeyIdentifier.getId());
    assertThat(ski).isNotNull();
    assertThat(ASN1OctetString.getInstance(ski).getOctets()).hasSizeGreaterThan(2);
  }

  @Test
  void generate_rsa_default2048AndConfigurable() {
    SigningCa rsa = SelfSignedRoot.generate("example.org", KeyAlgorithm.rsa(), CLOCK);
    SigningCa rsa3072 =
        SelfSignedRoot.generate("example.org", KeyAlgorithm.rsa(3072), Duration.ofDays(1), CLOCK);

    assertThat(((RSAPublicKey) rsa.signingCertificate().getPublicKey()).getModulus().bitLength())
        .isEqualTo(2048);
    assertThat(rsa.signingCertificate().getSigAlgName()).isEqualTo("SHA256withRSA");
    assertThat(
            ((RSAPublicKey) rsa3072.signingCertificate().getPublicKey()).getModulus().bitLength())
        .isEqualTo(3072);
    assertThat(rsa3072.signingCertificate().getNotAfter().toInstant())
        .isEqualTo(NOW.plus(Duration.ofDays(1)));
  }

  @Test
  void generate_twice_differentKeysAndSerials() {
    SigningCa a = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
    SigningCa b = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);

    assertThat(a).isNotEqualTo(b);
    assertThat(a.signingCertificate().getSerialNumber())
        .isNotEqualTo(b.signingCertificate().getSerialNumber());
  }

  @Test
  void rsa_below2048_isRefused() {
    assertThatThrownBy(() -> KeyAlgorithm.rsa(1024))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RSA key size: 1024 (expected: >= 2048)");
  }

  @Test
  void generate_blankOrganizationOrNonPositiveValidity_isRefused() {
    assertThatThrownBy(() -> SelfSignedRoot.generate(" ", KeyAlgorithm.ecdsaP256(), CLOCK))
        .hasMessage("organization: \" \" (expected: the trust domain)");
    assertThatThrownBy(
            () ->
                SelfSignedRoot.generate(
                    "cluster.local", KeyAlgorithm.ecdsaP256(), Duration.ZERO, CLOCK))
        .hasMessage("validity: PT0S (expected: > 0)");
  }

  @Test
  void toString_neverShowsTheKey() {
    SigningCa ca = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);

    assertThat(ca.toString())
        .isEqualTo("SigningCa{signer=O=cluster.local, intermediates=0, roots=[O=cluster.local]}");
  }

  @Test
  void renew_keepsKeyAndSubject_soWhatTheOldRootSignedVerifiesAgainstTheNewOne() throws Exception {
    SigningCa old = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
    java.security.KeyPair workload =
        KeyAlgorithm.ecdsaP256().generate(new java.security.SecureRandom());
    X509Certificate leaf =
        new WorkloadCertificateSigner(old, CLOCK)
            .issueServing(workload.getPublic(), java.util.List.of("shop.svc"), Duration.ofHours(1));
    java.time.Clock later =
        java.time.Clock.fixed(NOW.plus(Duration.ofDays(3000)), java.time.ZoneOffset.UTC);

    SigningCa renewed = SelfSignedRoot.renew(old, Duration.ofDays(3650), later);

    X509Certificate root = renewed.signingCertificate();
    assertThat(root).isNotEqualTo(old.signingCertificate());
    assertThat(root.getSerialNumber()).isNotEqualTo(old.signingCertificate().getSerialNumber());
    assertThat(root.getPublicKey()).isEqualTo(old.signingCertificate().getPublicKey());
    assertThat(root.getSubjectX500Principal())
        .isEqualTo(old.signingCertificate().getSubjectX500Principal());
    assertThat(renewed.signingKey()).isEqualTo(old.signingKey());
    assertThat(root.getNotAfter().toInstant())
        .isEqualTo(NOW.plus(Duration.ofDays(3000)).plus(Duration.ofDays(3650)));
    root.verify(root.getPublicKey());
    leaf.verify(root.getPublicKey());
    java.security.cert.PKIXParameters trust =
        new java.security.cert.PKIXParameters(
            java.util.Set.of(new java.security.cert.TrustAnchor(root, null)));
    trust.setRevocationEnabled(false);
    trust.setDate(java.util.Date.from(NOW.plus(Duration.ofMinutes(5))));
    java.security.cert.CertPathValidator.getInstance("PKIX")
        .validate(
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertPath(java.util.List.of(leaf)),
            trust);
  }

  @Test
  void renew_aPluggedInChain_isRefused() {
    SigningCa root = SelfSignedRoot.generate("corp", KeyAlgorithm.ecdsaP256(), CLOCK);
    SigningCa intermediate =
        new SigningCa(
            root.signingCertificate(),
            root.signingKey(),
            java.util.List.of(),
            java.util.List.of(
                SelfSignedRoot.generate("other", KeyAlgorithm.ecdsaP256(), CLOCK)
                    .signingCertificate()));
    assertThatThrownBy(() -> SelfSignedRoot.renew(intermediate, Duration.ofDays(1), CLOCK))
        .hasMessageContaining("not a self-signed root");
  }
}
