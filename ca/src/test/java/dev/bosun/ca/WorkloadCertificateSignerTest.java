package dev.bosun.ca;

import static dev.bosun.ca.CsrRejectedException.Reason.IDENTITY_MISMATCH;
import static dev.bosun.ca.CsrRejectedException.Reason.INVALID_CSR;
import static dev.bosun.ca.CsrRejectedException.Reason.TTL_TOO_LONG;
import static dev.bosun.ca.CsrRejectedException.Reason.WEAK_OR_UNSUPPORTED_KEY;
import static dev.bosun.ca.TestPki.CLOCK;
import static dev.bosun.ca.TestPki.NOW;
import static dev.bosun.ca.TestPki.SPIFFE_ID;
import static dev.bosun.ca.TestPki.certificate;
import static dev.bosun.ca.TestPki.csr;
import static dev.bosun.ca.TestPki.ec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkloadCertificateSignerTest {
  private static final SigningCa EC_CA =
      SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
  private static final WorkloadCertificateSigner SIGNER =
      new WorkloadCertificateSigner(EC_CA, CLOCK);
  private static final KeyPair WORKLOAD = ec("workload");
  private static final ExecutorService POOL = Executors.newFixedThreadPool(2);

  @AfterAll
  static void stopPool() {
    POOL.shutdownNow();
  }

  // --- the issued certificate ---

  @Test
  void sign_validCsr_chainIsLeafThenRoot() throws Exception {
    SignedCertificate signed = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO);

    assertThat(signed.certChainPem()).hasSize(2);
    assertThat(signed.certChainPem().get(0))
        .isEqualTo(Pem.encode(signed.leaf()))
        .isEqualTo(signed.leafPem());
    assertThat(signed.certChainPem().get(1)).isEqualTo(EC_CA.rootPem());
    assertValidates(signed, EC_CA.anchorRoot());
  }

  @Test
  void sign_leaf_carriesOnlyTheCallersIdentity() throws Exception {
    X509Certificate leaf = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, SPIFFE_ID));
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.subjectAlternativeName.getId());
    assertThat(leaf.getPublicKey()).isEqualTo(WORKLOAD.getPublic());
    assertThat(leaf.getIssuerX500Principal())
        .isEqualTo(EC_CA.anchorRoot().getSubjectX500Principal());
  }

  @Test
  void sign_leaf_isNotACaAndHasWorkloadUsages() throws Exception {
    X509Certificate leaf = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.getCriticalExtensionOIDs())
        .containsExactlyInAnyOrder(
            Extension.subjectAlternativeName.getId(),
            Extension.basicConstraints.getId(),
            Extension.keyUsage.getId());
    // digitalSignature(0) and keyEncipherment(2) only
    assertThat(leaf.getKeyUsage()).startsWith(true, false, true, false, false, false, false, false);
    assertThat(leaf.getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
  }

  @Test
  void sign_leaf_hasKeyIdentifiersAndRandomSerial() throws Exception {
    X509Certificate a = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();
    X509Certificate b = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    byte[] rootKeyId = CertificateFields.keyIdOf(EC_CA.anchorRoot());
    AuthorityKeyIdentifier aki =
        AuthorityKeyIdentifier.getInstance(
            ASN1OctetString.getInstance(
                    a.getExtensionValue(Extension.authorityKeyIdentifier.getId()))
                .getOctets());
    assertThat(aki.getKeyIdentifier()).isEqualTo(rootKeyId);
    assertThat(a.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
    assertThat(a.getSerialNumber().signum()).isPositive();
    assertThat(a.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
    assertThat(a.getSerialNumber()).isNotEqualTo(b.getSerialNumber());
  }

  @Test
  void sign_csrSubjectAndDuplicateSans_areIgnored() throws Exception {
    X509Certificate leaf =
        SIGNER.sign(csr(WORKLOAD, SPIFFE_ID, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, SPIFFE_ID));
    assertThat(leaf.getSubjectX500Principal().getName()).doesNotContain("ignored");
  }

  // --- lifetime ---

  @Test
  void sign_noTtl_defaultTwentyFourHoursDatedTwoMinutesBack() throws Exception {
    X509Certificate leaf = SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(2)));
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(24)));
  }

  @Test
  void sign_negativeTtl_default() throws Exception {
    X509Certificate leaf =
        SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ofSeconds(-5)).leaf();

    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(24)));
  }

  @Test
  void sign_requestedTtl_isHonoured() throws Exception {
    X509Certificate hour =
        SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ofHours(1)).leaf();
    X509Certificate max =
        SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ofDays(90)).leaf();

    assertThat(hour.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(1)));
    assertThat(max.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(90)));
  }

  @Test
  void sign_ttlOverMaximum_isRefusedWithBothValues() {
    CsrRejectedException e =
        reject(SIGNER, csr(WORKLOAD, SPIFFE_ID), Duration.ofDays(90).plusSeconds(1));

    assertThat(e.reason()).isEqualTo(TTL_TOO_LONG);
    assertThat(e)
        .hasMessage("requested TTL 90d1s is longer than the maximum workload certificate TTL 90d");
  }

  @Test
  void sign_configuredLifetimes_apply() throws Exception {
    WorkloadCertificateSigner signer =
        new WorkloadCertificateSigner(
            EC_CA,
            new WorkloadCertificateOptions(Duration.ofHours(1), Duration.ofHours(2), Duration.ZERO),
            CLOCK);

    X509Certificate leaf = signer.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW);
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(1)));
    assertThat(reject(signer, csr(WORKLOAD, SPIFFE_ID), Duration.ofHours(3)).reason())
        .isEqualTo(TTL_TOO_LONG);
  }

  @Test
  void options_inconsistent_areRefused() {
    assertThatThrownBy(
            () ->
                new WorkloadCertificateOptions(
                    Duration.ofHours(2), Duration.ofHours(1), Duration.ZERO))
        .hasMessage("maxTtl: PT1H (expected: >= defaultTtl PT2H)");
    assertThatThrownBy(
            () -> new WorkloadCertificateOptions(Duration.ZERO, Duration.ofHours(1), Duration.ZERO))
        .hasMessage("defaultTtl: PT0S (expected: > 0)");
  }

  @Test
  void sign_signerExpiresFirst_notAfterClampedToSigner() throws Exception {
    Instant caExpiry = NOW.plus(Duration.ofHours(10));
    KeyPair caKeys = ec("short-lived-ca");
    X509Certificate shortLived =
        certificate("Short CA", caKeys).validity(NOW.minus(Duration.ofDays(1)), caExpiry).build();
    WorkloadCertificateSigner signer =
        new WorkloadCertificateSigner(SigningCa.selfSigned(shortLived, caKeys.getPrivate()), CLOCK);

    X509Certificate leaf = signer.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(caExpiry);
  }

  @Test
  void issueServing_carriesTheDnsNames_andIsClampedToTheSigner() throws Exception {
    Instant caExpiry = NOW.plus(Duration.ofHours(10));
    KeyPair caKeys = ec("short-lived-ca");
    X509Certificate shortLived =
        certificate("Short CA", caKeys).validity(NOW.minus(Duration.ofDays(1)), caExpiry).build();
    WorkloadCertificateSigner signer =
        new WorkloadCertificateSigner(SigningCa.selfSigned(shortLived, caKeys.getPrivate()), CLOCK);

    X509Certificate serving =
        signer.issueServing(
            ec("bosun").getPublic(),
            java.util.List.of("istiod.istio-system.svc", "bosun.istio-system.svc"),
            Duration.ofDays(1));

    assertThat(serving.getSubjectAlternativeNames())
        .containsExactly(
            java.util.List.of(2, "istiod.istio-system.svc"),
            java.util.List.of(2, "bosun.istio-system.svc"));
    assertThat(serving.getNotAfter().toInstant()).isEqualTo(caExpiry);
    serving.verify(caKeys.getPublic());
  }

  @Test
  void issueServing_afterTheChainExpired_isRefused() {
    KeyPair caKeys = ec("short-lived-ca");
    X509Certificate expired =
        certificate("Expired CA", caKeys)
            .validity(NOW.minus(Duration.ofDays(2)), NOW.minus(Duration.ofDays(1)))
            .build();
    WorkloadCertificateSigner signer =
        new WorkloadCertificateSigner(SigningCa.selfSigned(expired, caKeys.getPrivate()), CLOCK);

    assertThatThrownBy(
            () ->
                signer.issueServing(
                    ec("bosun").getPublic(),
                    java.util.List.of("istiod.istio-system.svc"),
                    Duration.ofDays(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("cannot issue a serving certificate: the signing chain expired at");
  }

  @Test
  void sign_intermediateExpiresFirst_notAfterClampedToIt() throws Exception {
    Instant intermediateExpiry = NOW.plus(Duration.ofHours(3));
    PlugIn pki = PlugIn.create(intermediateExpiry);

    X509Certificate leaf =
        new WorkloadCertificateSigner(pki.ca, CLOCK)
            .sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ofHours(12))
            .leaf();

    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(intermediateExpiry);
  }

  @Test
  void sign_afterSignerExpiry_failsAsCaProblem() {
    WorkloadCertificateSigner late =
        new WorkloadCertificateSigner(EC_CA, TestPki.clockAt(NOW.plus(Duration.ofDays(3651))));

    assertThatThrownBy(() -> late.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("cannot sign: the signing chain expired at ");
  }

  // --- other CA keys and chains ---

  @Test
  void sign_rsaCa_signsWithRsaAndValidates() throws Exception {
    SigningCa rsaCa = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.rsa(), CLOCK);

    SignedCertificate signed =
        new WorkloadCertificateSigner(rsaCa, CLOCK)
            .sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO);

    assertThat(signed.leaf().getSigAlgName()).isEqualTo("SHA256withRSA");
    assertValidates(signed, rsaCa.anchorRoot());
  }

  @Test
  void sign_ecCa_signsWithEcdsa() throws Exception {
    assertThat(
            SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf().getSigAlgName())
        .isEqualTo("SHA256withECDSA");
  }

  @Test
  void sign_p384Ca_signsWithSha384() throws Exception {
    KeyPair keys = TestPki.ec384("ca");
    X509Certificate root = certificate("P-384 Root", keys).build();
    SigningCa ca = SigningCa.selfSigned(root, keys.getPrivate());

    SignedCertificate signed =
        new WorkloadCertificateSigner(ca, CLOCK)
            .sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO);

    assertThat(signed.leaf().getSigAlgName()).isEqualTo("SHA384withECDSA");
    assertValidates(signed, root);
  }

  @Test
  void sign_plugInCaWithIntermediate_chainIsLeafCaIntermediateRoot() throws Exception {
    PlugIn pki = PlugIn.create(NOW.plus(Duration.ofDays(100)));

    SignedCertificate signed =
        new WorkloadCertificateSigner(pki.ca, CLOCK)
            .sign(csr(WORKLOAD, SPIFFE_ID), SPIFFE_ID, Duration.ZERO);

    assertThat(signed.certChainPem())
        .containsExactly(
            Pem.encode(signed.leaf()),
            Pem.encode(pki.ca.signingCertificate()),
            Pem.encode(pki.intermediate),
            Pem.encode(pki.root));
    assertValidates(signed, pki.root);
  }

  // --- refusals ---

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "hello, I am a CSR"})
  void sign_notPem_invalidCsr(String pem) {
    CsrRejectedException e = reject(SIGNER, pem, Duration.ZERO);

    assertThat(e.reason()).isEqualTo(INVALID_CSR);
    assertThat(e.getMessage()).startsWith("malformed CSR PEM: ");
  }

  @Test
  void sign_null_invalidCsr() {
    assertThat(reject(SIGNER, null, Duration.ZERO))
        .hasMessage("malformed CSR PEM: the request is empty");
  }

  @Test
  void sign_garbageInsidePemBlock_invalidCsr() {
    CsrRejectedException e =
        reject(
            SIGNER,
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            Duration.ZERO);

    assertThat(e.reason()).isEqualTo(INVALID_CSR);
    assertThat(e.getMessage()).startsWith("malformed CSR PEM: ");
  }

  @Test
  void sign_certificateInsteadOfCsr_saysWhatWasFound() {
    assertThat(reject(SIGNER, EC_CA.rootPem(), Duration.ZERO))
        .hasMessage("malformed CSR PEM: found a CERTIFICATE block (expected: CERTIFICATE REQUEST)");
  }

  @Test
  void sign_signatureByAnotherKey_invalidCsr() {
    String forged = TestPki.forgedCsr(WORKLOAD, ec("forger"), SPIFFE_ID);

    CsrRejectedException e = reject(SIGNER, forged, Duration.ZERO);

    assertThat(e.reason()).isEqualTo(INVALID_CSR);
    assertThat(e).hasMessage("CSR signature does not verify with the CSR's own public key");
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA-1024", "EC-P521", "Ed25519", "DSA-2048", "EC-secp256k1"})
  void sign_weakOrUnsupportedKey_namesFoundAndAccepted(String kind) {
    CsrRejectedException e = reject(SIGNER, csr(key(kind), SPIFFE_ID), Duration.ZERO);

    String found =
        Map.of(
                "RSA-1024", "RSA 1024-bit",
                "EC-P521", "EC P-521",
                "Ed25519", "Ed25519",
                "DSA-2048", "DSA",
                "EC-secp256k1", "EC secp256k1")
            .get(kind);
    assertThat(e.reason()).isEqualTo(WEAK_OR_UNSUPPORTED_KEY);
    assertThat(e)
        .hasMessage(
            "CSR key is "
                + found
                + " (expected: RSA of at least 2048 bits, or EC on P-256 or P-384)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA-2048", "RSA-3072", "EC-P256", "EC-P384"})
  void sign_acceptedKeys_areCertified(String kind) throws Exception {
    KeyPair keys = key(kind);

    X509Certificate leaf = SIGNER.sign(csr(keys, SPIFFE_ID), SPIFFE_ID, Duration.ZERO).leaf();

    assertThat(leaf.getPublicKey()).isEqualTo(keys.getPublic());
  }

  @Test
  void sign_otherIdentity_identityMismatchNamingBoth() {
    String other = "spiffe://cluster.local/ns/payments/sa/ledger";

    CsrRejectedException e = reject(SIGNER, csr(WORKLOAD, other), Duration.ZERO);

    assertThat(e.reason()).isEqualTo(IDENTITY_MISMATCH);
    assertThat(e)
        .hasMessage(
            "CSR requests identity URI:spiffe://cluster.local/ns/payments/sa/ledger but the caller"
                + " may only be issued URI:spiffe://cluster.local/ns/default/sa/frontend");
  }

  @Test
  void sign_ownAndOtherIdentity_identityMismatch() {
    String other = "spiffe://cluster.local/ns/payments/sa/ledger";

    assertThat(reject(SIGNER, csr(WORKLOAD, SPIFFE_ID, other), Duration.ZERO).reason())
        .isEqualTo(IDENTITY_MISMATCH);
  }

  @Test
  void sign_dnsAndIpSans_identityMismatchNamingThem() {
    String dns =
        TestPki.csrWithNames(
            WORKLOAD,
            "SHA256withECDSA",
            new GeneralName(GeneralName.dNSName, "frontend.default.svc"));
    String ip =
        TestPki.csrWithNames(
            WORKLOAD, "SHA256withECDSA", new GeneralName(GeneralName.iPAddress, "10.1.2.3"));

    assertThat(reject(SIGNER, dns, Duration.ZERO))
        .hasMessageStartingWith("CSR requests identity DNS:frontend.default.svc but");
    assertThat(reject(SIGNER, ip, Duration.ZERO))
        .hasMessageStartingWith("CSR requests identity IP:10.1.2.3 but");
  }

  @Test
  void sign_uriDifferingOnlyInCase_identityMismatch() {
    String upper = SPIFFE_ID.replace("frontend", "Frontend");

    assertThat(reject(SIGNER, csr(WORKLOAD, upper), Duration.ZERO).reason())
        .isEqualTo(IDENTITY_MISMATCH);
  }

  @Test
  void sign_noSans_invalidCsr() {
    CsrRejectedException e = reject(SIGNER, csr(WORKLOAD), Duration.ZERO);

    assertThat(e.reason()).isEqualTo(INVALID_CSR);
    assertThat(e)
        .hasMessage(
            "CSR requests no identity: it has no subjectAltName extension request (expected: the"
                + " URI SAN spiffe://cluster.local/ns/default/sa/frontend)");
  }

  @Test
  void sign_callerIdNotSpiffe_isAProgrammingError() {
    assertThatThrownBy(() -> SIGNER.sign(csr(WORKLOAD, SPIFFE_ID), "frontend", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // --- concurrency ---

  @Test
  void sign_fromTwoThreads_allCertificatesValidAndDistinct() throws Exception {
    List<String> csrs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      csrs.add(csr(TestPki.ec("concurrent-" + i), SPIFFE_ID));
    }
    List<Future<List<X509Certificate>>> results = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      results.add(
          POOL.submit(
              () -> {
                List<X509Certificate> out = new ArrayList<>();
                for (String c : csrs) {
                  out.add(SIGNER.sign(c, SPIFFE_ID, Duration.ZERO).leaf());
                }
                return out;
              }));
    }
    Set<BigInteger> serials = new HashSet<>();
    for (Future<List<X509Certificate>> result : results) {
      for (X509Certificate leaf : result.get()) {
        leaf.verify(EC_CA.anchorRoot().getPublicKey());
        serials.add(leaf.getSerialNumber());
      }
    }
    assertThat(serials).hasSize(40);
  }

  // --- helpers ---

  private static CsrRejectedException reject(
      WorkloadCertificateSigner signer, String csrPem, Duration ttl) {
    return catchThrowableOfType(
        CsrRejectedException.class, () -> signer.sign(csrPem, SPIFFE_ID, ttl));
  }

  private static void assertValidates(SignedCertificate signed, X509Certificate root)
      throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> path = new ArrayList<>();
    for (String pem : signed.certChainPem().subList(0, signed.certChainPem().size() - 1)) {
      path.add(Pem.certificates(pem).get(0));
    }
    assertThat(Pem.certificates(signed.certChainPem().get(signed.certChainPem().size() - 1)))
        .containsExactly(root);
    PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    parameters.setRevocationEnabled(false);
    parameters.setDate(Date.from(NOW));
    CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(path), parameters);
  }

  private static KeyPair key(String kind) {
    return switch (kind) {
      case "RSA-1024" -> TestPki.rsa("workload", 1024);
      case "RSA-2048" -> TestPki.rsa("workload", 2048);
      case "RSA-3072" -> TestPki.rsa("workload", 3072);
      case "EC-P256" -> WORKLOAD;
      case "EC-P384" -> TestPki.ec384("workload");
      case "EC-P521" -> TestPki.generate("EC", new ECGenParameterSpec("secp521r1"));
      case "EC-secp256k1" -> generateWithBouncyCastle("EC", new ECGenParameterSpec("secp256k1"));
      case "Ed25519" -> TestPki.generate("Ed25519", null);
      case "DSA-2048" -> TestPki.generate("DSA", 2048);
      default -> throw new IllegalArgumentException(kind);
    };
  }

  private static KeyPair generateWithBouncyCastle(String algorithm, ECGenParameterSpec spec) {
    try {
      var generator = KeyPairGenerator.getInstance(algorithm, TestPki.BC);
      generator.initialize(spec);
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** root → intermediate → cluster CA, the intermediate expiring at a chosen time. */
  private record PlugIn(X509Certificate root, X509Certificate intermediate, SigningCa ca) {
    static PlugIn create(Instant intermediateExpiry) throws CaConfigurationException {
      KeyPair rootKeys = ec("root");
      KeyPair intermediateKeys = ec("intermediate");
      KeyPair caKeys = ec("ca");
      X509Certificate root = certificate("Root CA", rootKeys).build();
      X509Certificate intermediate =
          certificate("Intermediate CA", intermediateKeys)
              .issuedBy(root, rootKeys.getPrivate())
              .validity(NOW.minus(Duration.ofDays(10)), intermediateExpiry)
              .build();
      X509Certificate ca =
          certificate("Cluster CA", caKeys)
              .issuedBy(intermediate, intermediateKeys.getPrivate())
              .build();
      SigningCa loaded =
          IstioCaSecrets.loadPlugIn(
              TestPki.plugIn(
                  ca, caKeys.getPrivate(), List.of(ca, intermediate, root), List.of(root)),
              CLOCK);
      return new PlugIn(root, intermediate, loaded);
    }
  }
}
