package dev.bosun.ca;

import static dev.bosun.ca.IstioCaSecrets.CA_CERT;
import static dev.bosun.ca.IstioCaSecrets.CA_KEY;
import static dev.bosun.ca.IstioCaSecrets.CERT_CHAIN;
import static dev.bosun.ca.IstioCaSecrets.ROOT_CERT;
import static dev.bosun.ca.TestPki.CLOCK;
import static dev.bosun.ca.TestPki.NOW;
import static dev.bosun.ca.TestPki.certificate;
import static dev.bosun.ca.TestPki.ec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IstioCaSecretsTest {
  private static final KeyPair ROOT_KEYS = ec("root");
  private static final KeyPair INTERMEDIATE_KEYS = ec("intermediate");
  private static final KeyPair CA_KEYS = ec("ca");
  private static final X509Certificate ROOT = certificate("Root CA", ROOT_KEYS).build();
  private static final X509Certificate INTERMEDIATE =
      certificate("Intermediate CA", INTERMEDIATE_KEYS)
          .issuedBy(ROOT, ROOT_KEYS.getPrivate())
          .build();
  private static final X509Certificate CA =
      certificate("Cluster CA", CA_KEYS)
          .issuedBy(INTERMEDIATE, INTERMEDIATE_KEYS.getPrivate())
          .build();

  // --- istio-ca-secret ---

  @Test
  void selfSignedData_hasIstiodLayout() {
    SigningCa ca = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);

    Map<String, String> data = IstioCaSecrets.selfSignedData(ca);

    assertThat(data)
        .containsOnlyKeys(CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT, IstioCaSecrets.PRIVATE_KEY)
        .containsEntry(CERT_CHAIN, "")
        .containsEntry(IstioCaSecrets.PRIVATE_KEY, "")
        .containsEntry(ROOT_CERT, data.get(CA_CERT));
    assertThat(data.get(CA_CERT)).startsWith("-----BEGIN CERTIFICATE-----\n");
    assertThat(data.get(CA_KEY)).startsWith("-----BEGIN EC PRIVATE KEY-----\n");
  }

  @Test
  void selfSignedData_rsaKey_isTraditionalRsaPem() {
    SigningCa ca = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.rsa(), CLOCK);

    assertThat(IstioCaSecrets.selfSignedData(ca).get(CA_KEY))
        .startsWith("-----BEGIN RSA PRIVATE KEY-----\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ec", "rsa"})
  void loadSelfSigned_roundTrip_givesEqualCaThatSigns(String algorithm) throws Exception {
    SigningCa generated =
        SelfSignedRoot.generate(
            "cluster.local",
            algorithm.equals("ec") ? KeyAlgorithm.ecdsaP256() : KeyAlgorithm.rsa(),
            CLOCK);

    SigningCa loaded =
        IstioCaSecrets.loadSelfSigned(IstioCaSecrets.selfSignedData(generated), CLOCK);

    assertThat(loaded).isEqualTo(generated);
    assertThat(loaded.rootPem()).isEqualTo(generated.rootPem());
    SignedCertificate signed =
        new WorkloadCertificateSigner(loaded, CLOCK)
            .sign(TestPki.csr(ec("workload"), TestPki.SPIFFE_ID), TestPki.SPIFFE_ID, Duration.ZERO);
    signed.leaf().verify(generated.anchorRoot().getPublicKey());
    assertThat(signed.certChainPem()).hasSize(2).last().isEqualTo(generated.rootPem());
  }

  @Test
  void loadSelfSigned_readsOnlyCaCertAndKey_likeIstiod() throws Exception {
    SigningCa generated = SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
    Map<String, String> data = new HashMap<>();
    data.put(CA_CERT, Pem.encode(generated.signingCertificate()));
    data.put(CA_KEY, Pem.encode(generated.signingKey()));

    assertThat(IstioCaSecrets.loadSelfSigned(data, CLOCK)).isEqualTo(generated);
  }

  @Test
  void loadSelfSigned_notSelfSigned_pointsToCacerts() {
    Map<String, String> data =
        Map.of(CA_CERT, Pem.encode(CA), CA_KEY, Pem.encode(CA_KEYS.getPrivate()));

    assertThatThrownBy(() -> IstioCaSecrets.loadSelfSigned(data, CLOCK))
        .isInstanceOf(CaConfigurationException.class)
        .hasMessage(
            "istio-ca-secret: ca-cert.pem (CN=Cluster CA,O=Bosun Test) is not self-signed (issuer"
                + " CN=Intermediate CA,O=Bosun Test); a CA issued by another root belongs in the"
                + " cacerts Secret");
  }

  @Test
  void loadSelfSigned_missingKey_namesIt() {
    Map<String, String> data = Map.of(CA_CERT, Pem.encode(ROOT));

    assertThatThrownBy(() -> IstioCaSecrets.loadSelfSigned(data, CLOCK))
        .hasMessage("istio-ca-secret: missing key ca-key.pem");
  }

  @Test
  void selfSignedData_ofPlugInCa_isRefused() throws Exception {
    SigningCa plugIn =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(
                CA, CA_KEYS.getPrivate(), List.of(CA, INTERMEDIATE, ROOT), List.of(ROOT)),
            CLOCK);

    assertThatThrownBy(() -> IstioCaSecrets.selfSignedData(plugIn))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: a self-signed root");
  }

  // --- cacerts: accepted layouts ---

  @Test
  void loadPlugIn_intermediateAsCaCert_chainIsLeafIntermediateRoot() throws Exception {
    Map<String, String> data =
        TestPki.plugIn(
            INTERMEDIATE,
            INTERMEDIATE_KEYS.getPrivate(),
            List.of(INTERMEDIATE, ROOT),
            List.of(ROOT));

    SigningCa ca = IstioCaSecrets.loadPlugIn(data, CLOCK);

    assertThat(ca.signingCertificate()).isEqualTo(INTERMEDIATE);
    assertThat(ca.intermediates()).isEmpty();
    assertThat(ca.roots()).containsExactly(ROOT);
    assertThat(ca.signerChain()).containsExactly(INTERMEDIATE, ROOT);
    assertThat(ca.rootPem()).isEqualTo(Pem.encode(ROOT));
  }

  @Test
  void loadPlugIn_twoLevelsBelowRoot_keepsIntermediateBetween() throws Exception {
    SigningCa ca =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(
                CA, CA_KEYS.getPrivate(), List.of(CA, INTERMEDIATE, ROOT), List.of(ROOT)),
            CLOCK);

    assertThat(ca.intermediates()).containsExactly(INTERMEDIATE);
    assertThat(ca.signerChain()).containsExactly(CA, INTERMEDIATE, ROOT);
  }

  @Test
  void loadPlugIn_chainWithoutCaCertOrRoot_isTheSame() throws Exception {
    SigningCa full =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(
                CA, CA_KEYS.getPrivate(), List.of(CA, INTERMEDIATE, ROOT), List.of(ROOT)),
            CLOCK);

    SigningCa bare =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(INTERMEDIATE), List.of(ROOT)), CLOCK);
    SigningCa withoutRoot =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(CA, INTERMEDIATE), List.of(ROOT)),
            CLOCK);

    assertThat(bare).isEqualTo(full);
    assertThat(withoutRoot).isEqualTo(full);
  }

  @Test
  void loadPlugIn_emptyChainWhenRootIssuedCaCert() throws Exception {
    SigningCa ca =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(INTERMEDIATE, INTERMEDIATE_KEYS.getPrivate(), List.of(), List.of(ROOT)),
            CLOCK);

    assertThat(ca.signerChain()).containsExactly(INTERMEDIATE, ROOT);
  }

  @Test
  void loadPlugIn_rootAsCaCert_isSelfSigned() throws Exception {
    SigningCa ca =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(ROOT, ROOT_KEYS.getPrivate(), List.of(ROOT), List.of(ROOT)), CLOCK);

    assertThat(ca.isSelfSigned()).isTrue();
    assertThat(ca.signerChain()).containsExactly(ROOT);
  }

  @Test
  void loadPlugIn_severalRoots_anchorFirst() throws Exception {
    X509Certificate otherRoot = certificate("Other Root", ec("other-root")).build();

    SigningCa ca =
        IstioCaSecrets.loadPlugIn(
            TestPki.plugIn(
                INTERMEDIATE,
                INTERMEDIATE_KEYS.getPrivate(),
                List.of(INTERMEDIATE),
                List.of(otherRoot, ROOT)),
            CLOCK);

    assertThat(ca.roots()).containsExactly(ROOT, otherRoot);
    assertThat(ca.signerChain()).containsExactly(INTERMEDIATE, ROOT);
    assertThat(ca.rootPem()).isEqualTo(Pem.encode(ROOT) + Pem.encode(otherRoot));
  }

  @ParameterizedTest
  @ValueSource(strings = {"pkcs8", "traditional", "traditional-with-ec-parameters"})
  void loadPlugIn_keyFormats_allRead(String format) throws Exception {
    Map<String, String> data =
        TestPki.plugIn(
            INTERMEDIATE,
            INTERMEDIATE_KEYS.getPrivate(),
            List.of(INTERMEDIATE, ROOT),
            List.of(ROOT));
    String pkcs8 = Pem.encode("PRIVATE KEY", INTERMEDIATE_KEYS.getPrivate().getEncoded());
    String traditional = Pem.encode(INTERMEDIATE_KEYS.getPrivate());
    data.put(
        CA_KEY,
        switch (format) {
          case "pkcs8" -> pkcs8;
          case "traditional" -> traditional;
          default ->
              "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                  + traditional;
        });

    assertThat(IstioCaSecrets.loadPlugIn(data, CLOCK).signingCertificate()).isEqualTo(INTERMEDIATE);
  }

  @Test
  void loadPlugIn_rsaIntermediate_traditionalKey() throws Exception {
    KeyPair rsa = TestPki.rsa("plug-in", 2048);
    X509Certificate rsaCa =
        certificate("RSA CA", rsa).issuedBy(ROOT, ROOT_KEYS.getPrivate()).build();
    Map<String, String> data =
        TestPki.plugIn(rsaCa, rsa.getPrivate(), List.of(rsaCa, ROOT), List.of(ROOT));

    assertThat(data.get(CA_KEY)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(IstioCaSecrets.loadPlugIn(data, CLOCK).signingKey().getAlgorithm()).isEqualTo("RSA");
  }

  @Test
  void loadPlugIn_caCertWithoutKeyUsage_isAccepted() throws Exception {
    X509Certificate noUsage =
        certificate("No Usage CA", CA_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .keyUsage(null)
            .build();

    assertThat(
            IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(noUsage, CA_KEYS.getPrivate(), List.of(), List.of(ROOT)), CLOCK)
                .signingCertificate())
        .isEqualTo(noUsage);
  }

  // --- cacerts: refusals ---

  @ParameterizedTest
  @ValueSource(strings = {CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT})
  void loadPlugIn_missingKey_namesItAndTheExpectedKeys(String missing) {
    Map<String, String> data = validData();
    data.remove(missing);

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .isInstanceOf(CaConfigurationException.class)
        .hasMessage(
            "cacerts: missing key "
                + missing
                + " (expected keys: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)");
  }

  @ParameterizedTest
  @ValueSource(strings = {CA_CERT, CA_KEY, ROOT_CERT})
  void loadPlugIn_emptyValue_namesIt(String empty) {
    Map<String, String> data = validData();
    data.put(empty, "\n");

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessageStartingWith("cacerts: " + empty + " is empty");
  }

  @ParameterizedTest
  @ValueSource(strings = {CA_CERT, CERT_CHAIN, ROOT_CERT})
  void loadPlugIn_unparsableCertificatePem_namesKey(String key) {
    Map<String, String> data = validData();
    data.put(key, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessageStartingWith("cacerts: " + key + " is not valid PEM: ");
  }

  @Test
  void loadPlugIn_certificateFileWithoutPem_namesKey() {
    Map<String, String> data = validData();
    data.put(ROOT_CERT, "just some text");

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessage(
            "cacerts: root-cert.pem holds no PEM CERTIFICATE block (expected: PEM certificates)");
  }

  @Test
  void loadPlugIn_keyInCertificateSlot_saysWhatWasFound() {
    Map<String, String> data = validData();
    data.put(CA_CERT, data.get(CA_KEY));

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem holds a private key block (expected: only CERTIFICATE blocks)");
  }

  @Test
  void loadPlugIn_unparsableKey_namesKey() {
    Map<String, String> data = validData();
    data.put(CA_KEY, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessageStartingWith("cacerts: ca-key.pem ");
  }

  @Test
  void loadPlugIn_encryptedKey_saysUnsupported() {
    Map<String, String> data = validData();
    data.put(
        CA_KEY,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
            + Base64.getEncoder().encodeToString(encryptedKeyInfo())
            + "\n-----END ENCRYPTED PRIVATE KEY-----\n");

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessage(
            "cacerts: ca-key.pem holds an ENCRYPTED PRIVATE KEY block (encrypted keys are not"
                + " supported) (expected: an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA"
                + " PRIVATE KEY)");
  }

  @Test
  void loadPlugIn_twoCertificatesInCaCert_isRefused() {
    Map<String, String> data = validData();
    data.put(CA_CERT, Pem.encode(List.of(INTERMEDIATE, ROOT)));

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem holds 2 certificates (expected: exactly one, the signing"
                + " certificate; intermediates belong in cert-chain.pem)");
  }

  @Test
  void loadPlugIn_mismatchedKey_saysTheyMustBeAPair() {
    Map<String, String> data =
        TestPki.plugIn(INTERMEDIATE, ec("stranger").getPrivate(), List.of(ROOT), List.of(ROOT));

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessage(
            "cacerts: ca-key.pem does not match the public key of ca-cert.pem (CN=Intermediate"
                + " CA,O=Bosun Test): the key and the certificate must be a pair");
  }

  @Test
  void loadPlugIn_rsaKeyForEcCertificate_isAMismatch() {
    Map<String, String> data =
        TestPki.plugIn(
            INTERMEDIATE, TestPki.rsa("plug-in", 2048).getPrivate(), List.of(ROOT), List.of(ROOT));

    assertThatThrownBy(() -> IstioCaSecrets.loadPlugIn(data, CLOCK))
        .hasMessageContaining("ca-key.pem does not match the public key of ca-cert.pem");
  }

  @Test
  void loadPlugIn_caCertNotCa_isRefused() {
    X509Certificate leaf =
        certificate("Not A CA", CA_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .notCa()
            .keyUsage(KeyUsage.digitalSignature)
            .build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(leaf, CA_KEYS.getPrivate(), List.of(), List.of(ROOT)), CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem (CN=Not A CA,O=Bosun Test) is not a CA certificate (basic"
                + " constraints CA:FALSE or missing; expected: CA:TRUE)");
  }

  @Test
  void loadPlugIn_caCertWithoutKeyCertSign_isRefused() {
    X509Certificate noCertSign =
        certificate("No CertSign", CA_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .keyUsage(KeyUsage.digitalSignature | KeyUsage.cRLSign)
            .build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(noCertSign, CA_KEYS.getPrivate(), List.of(), List.of(ROOT)),
                    CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem (CN=No CertSign,O=Bosun Test) may not sign certificates: its key"
                + " usage lacks keyCertSign (expected: keyCertSign, usually with cRLSign)");
  }

  @Test
  void loadPlugIn_intermediateNotCa_namesItsPosition() {
    X509Certificate notCa =
        certificate("Middle", INTERMEDIATE_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .notCa()
            .build();
    X509Certificate ca =
        certificate("Cluster CA", CA_KEYS).issuedBy(notCa, INTERMEDIATE_KEYS.getPrivate()).build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(
                        ca, CA_KEYS.getPrivate(), List.of(ca, notCa, ROOT), List.of(ROOT)),
                    CLOCK))
        .hasMessageStartingWith(
            "cacerts: cert-chain.pem[1] (CN=Middle,O=Bosun Test) is not a CA certificate");
  }

  @Test
  void loadPlugIn_chainSkipsALink_isBroken() {
    // ca-cert.pem was issued by the intermediate, but cert-chain.pem goes straight to another CA.
    X509Certificate sibling =
        certificate("Sibling CA", ec("sibling")).issuedBy(ROOT, ROOT_KEYS.getPrivate()).build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(
                        CA, CA_KEYS.getPrivate(), List.of(CA, sibling, ROOT), List.of(ROOT)),
                    CLOCK))
        .hasMessage(
            "cacerts: broken chain: ca-cert.pem (CN=Cluster CA,O=Bosun Test) was issued by"
                + " CN=Intermediate CA,O=Bosun Test, not by the next certificate cert-chain.pem[1]"
                + " (CN=Sibling CA,O=Bosun Test) (expected: ca-cert.pem, then cert-chain.pem from"
                + " its issuer up to the root)");
  }

  @Test
  void loadPlugIn_sameNameOtherKey_signatureDoesNotVerify() {
    // An intermediate with the right name but a different key: names link, signatures do not.
    X509Certificate impostor =
        certificate("Intermediate CA", ec("impostor"))
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(impostor), List.of(ROOT)),
                    CLOCK))
        .hasMessage(
            "cacerts: broken chain: the signature of ca-cert.pem (CN=Cluster CA,O=Bosun Test) does"
                + " not verify with the key of cert-chain.pem[0] (CN=Intermediate CA,O=Bosun Test)");
  }

  @Test
  void loadPlugIn_missingIntermediate_notSignedByAnyRoot() {
    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(CA, ROOT), List.of(ROOT)),
                    CLOCK))
        .hasMessage(
            "cacerts: broken chain: ca-cert.pem (CN=Cluster CA,O=Bosun Test), issued by"
                + " CN=Intermediate CA,O=Bosun Test, is not signed by any certificate in"
                + " root-cert.pem (root-cert.pem[0] (CN=Root CA,O=Bosun Test))");
  }

  @Test
  void loadPlugIn_chainEndsInAnotherRoot_saysRootCertLacksIt() {
    X509Certificate otherRoot = certificate("Other Root", ec("other-root")).build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(
                        INTERMEDIATE,
                        INTERMEDIATE_KEYS.getPrivate(),
                        List.of(ROOT),
                        List.of(otherRoot)),
                    CLOCK))
        .hasMessage(
            "cacerts: broken chain: cert-chain.pem[0] (CN=Root CA,O=Bosun Test) is a self-signed"
                + " root that root-cert.pem does not hold (root-cert.pem holds root-cert.pem[0]"
                + " (CN=Other Root,O=Bosun Test))");
  }

  @Test
  void loadPlugIn_rootCertNotSelfSigned_isRefused() {
    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(), List.of(INTERMEDIATE)),
                    CLOCK))
        .hasMessage(
            "cacerts: root-cert.pem[0] (CN=Intermediate CA,O=Bosun Test) is not a self-signed root"
                + " (issuer CN=Root CA,O=Bosun Test); root-cert.pem must hold only root"
                + " certificates");
  }

  @Test
  void loadPlugIn_expiredCaCert_namesItAndItsDates() {
    X509Certificate expired =
        certificate("Expired CA", CA_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .validity(NOW.minus(Duration.ofDays(30)), NOW.minus(Duration.ofDays(1)))
            .build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(expired, CA_KEYS.getPrivate(), List.of(), List.of(ROOT)), CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem (CN=Expired CA,O=Bosun Test) expired at 2031-05-03T10:00:00Z"
                + " (valid from 2031-04-04T10:00:00Z to 2031-05-03T10:00:00Z; now"
                + " 2031-05-04T10:00:00Z)");
  }

  @Test
  void loadPlugIn_expiredRoot_namesIt() {
    X509Certificate oldRoot =
        certificate("Old Root", ROOT_KEYS)
            .validity(NOW.minus(Duration.ofDays(3650)), NOW.minus(Duration.ofSeconds(1)))
            .build();
    X509Certificate ca =
        certificate("Cluster CA", CA_KEYS).issuedBy(oldRoot, ROOT_KEYS.getPrivate()).build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(ca, CA_KEYS.getPrivate(), List.of(), List.of(oldRoot)), CLOCK))
        .hasMessageStartingWith(
            "cacerts: root-cert.pem[0] (CN=Old Root,O=Bosun Test) expired at 2031-05-04T09:59:59Z");
  }

  @Test
  void loadPlugIn_notYetValidIntermediate_namesIt() {
    X509Certificate future =
        certificate("Intermediate CA", INTERMEDIATE_KEYS)
            .issuedBy(ROOT, ROOT_KEYS.getPrivate())
            .validity(NOW.plus(Duration.ofHours(1)), NOW.plus(Duration.ofDays(365)))
            .build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(future), List.of(ROOT)),
                    CLOCK))
        .hasMessage(
            "cacerts: cert-chain.pem[0] (CN=Intermediate CA,O=Bosun Test) is not valid yet (valid"
                + " from 2031-05-04T11:00:00Z to 2032-05-03T10:00:00Z; now 2031-05-04T10:00:00Z)");
  }

  @Test
  void loadPlugIn_weakCaKey_isRefused() {
    KeyPair weak = TestPki.rsa("weak", 1024);
    X509Certificate weakCa =
        certificate("Weak CA", weak).issuedBy(ROOT, ROOT_KEYS.getPrivate()).build();

    assertThatThrownBy(
            () ->
                IstioCaSecrets.loadPlugIn(
                    TestPki.plugIn(weakCa, weak.getPrivate(), List.of(), List.of(ROOT)), CLOCK))
        .hasMessage(
            "cacerts: ca-cert.pem (CN=Weak CA,O=Bosun Test) has a RSA 1024-bit key (expected: RSA"
                + " of at least 2048 bits, or EC on P-256 or P-384)");
  }

  private static Map<String, String> validData() {
    return TestPki.plugIn(CA, CA_KEYS.getPrivate(), List.of(CA, INTERMEDIATE, ROOT), List.of(ROOT));
  }

  private static byte[] encryptedKeyInfo() {
    try {
      var encryptor =
          new org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder(
                  org.bouncycastle.openssl.PKCS8Generator.AES_256_CBC)
              .setProvider(TestPki.BC)
              .setPassword("secret".toCharArray())
              .build();
      return new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(CA_KEYS.getPrivate(), encryptor)
          .generate()
          .getContent();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
