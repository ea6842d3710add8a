package dev.bosun.ca;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Keys, certificates and CSRs for CA tests, with every field under the test's control. */
final class TestPki {
  static final Instant NOW = Instant.parse("2031-05-04T10:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  static final String SPIFFE_ID = "spiffe://cluster.local/ns/default/sa/frontend";

  /** BouncyCastle for what the JDK cannot do in tests: exotic curves, encrypted keys. */
  static final Provider BC = new BouncyCastleProvider();

  private static final Map<String, KeyPair> KEYS = new ConcurrentHashMap<>();

  private TestPki() {}

  /** A key pair per name, generated once per test run: key generation dominates test time. */
  static KeyPair ec(String name) {
    return KEYS.computeIfAbsent(
        "ec256/" + name, n -> generate("EC", new ECGenParameterSpec("secp256r1")));
  }

  static KeyPair ec384(String name) {
    return KEYS.computeIfAbsent(
        "ec384/" + name, n -> generate("EC", new ECGenParameterSpec("secp384r1")));
  }

  static KeyPair rsa(String name, int bits) {
    return KEYS.computeIfAbsent("rsa" + bits + "/" + name, n -> generate("RSA", bits));
  }

  static KeyPair generate(String algorithm, Object parameters) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      if (parameters instanceof Integer bits) {
        generator.initialize(bits);
      } else if (parameters instanceof ECGenParameterSpec spec) {
        generator.initialize(spec);
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static Clock clockAt(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  static CertBuilder certificate(String commonName, KeyPair keys) {
    return new CertBuilder(commonName, keys);
  }

  /** A fluent certificate builder: a self-signed CA valid a year around {@link #NOW} by default. */
  static final class CertBuilder {
    private final String commonName;
    private final KeyPair keys;
    private X509Certificate issuer;
    private PrivateKey issuerKey;
    private Instant notBefore = NOW.minus(Duration.ofDays(180));
    private Instant notAfter = NOW.plus(Duration.ofDays(180));
    private boolean ca = true;
    private Integer keyUsage = KeyUsage.keyCertSign | KeyUsage.cRLSign;

    private CertBuilder(String commonName, KeyPair keys) {
      this.commonName = commonName;
      this.keys = keys;
    }

    CertBuilder issuedBy(X509Certificate issuer, PrivateKey issuerKey) {
      this.issuer = issuer;
      this.issuerKey = issuerKey;
      return this;
    }

    CertBuilder validity(Instant notBefore, Instant notAfter) {
      this.notBefore = notBefore;
      this.notAfter = notAfter;
      return this;
    }

    CertBuilder notCa() {
      this.ca = false;
      return this;
    }

    /** A key usage extension with these bits, or none at all for {@code null}. */
    CertBuilder keyUsage(Integer bits) {
      this.keyUsage = bits;
      return this;
    }

    X509Certificate build() {
      X500Name subject = new X500Name("O=Bosun Test,CN=" + commonName);
      X500Name issuerName =
          issuer == null
              ? subject
              : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      PrivateKey signingKey = issuer == null ? keys.getPrivate() : issuerKey;
      try {
        X509v3CertificateBuilder builder =
            new X509v3CertificateBuilder(
                    issuerName,
                    BigInteger.valueOf(commonName.hashCode() & 0x7fffffffL).add(BigInteger.ONE),
                    Date.from(notBefore),
                    Date.from(notAfter),
                    subject,
                    SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()))
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (keyUsage != null) {
          builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        }
        String algorithm =
            signingKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return Pem.toX509(
            builder.build(new JcaContentSignerBuilder(algorithm).build(signingKey)).getEncoded());
      } catch (IOException | OperatorCreationException | GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A CSR for {@code keys} asking for these URI SANs. */
  static String csr(KeyPair keys, String... uris) {
    GeneralName[] names = new GeneralName[uris.length];
    for (int i = 0; i < uris.length; i++) {
      names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, new DERIA5String(uris[i]));
    }
    return csrWithNames(keys, defaultSignature(keys), names);
  }

  /** A CSR asking for any names; none at all leaves the extension request out. */
  static String csrWithNames(KeyPair keys, String signatureAlgorithm, GeneralName... names) {
    return csr(keys.getPublic(), keys.getPrivate(), signatureAlgorithm, names);
  }

  /** A CSR for {@code claimed}'s public key but signed by another key. */
  static String forgedCsr(KeyPair claimed, KeyPair signer, String uri) {
    return csr(
        claimed.getPublic(),
        signer.getPrivate(),
        defaultSignature(signer),
        new GeneralName(GeneralName.uniformResourceIdentifier, uri));
  }

  private static String csr(
      PublicKey publicKey, PrivateKey signingKey, String signatureAlgorithm, GeneralName... names) {
    try {
      PKCS10CertificationRequestBuilder builder =
          new JcaPKCS10CertificationRequestBuilder(new X500Name("O=ignored"), publicKey);
      if (names.length > 0) {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        builder.addAttribute(
            PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      }
      JcaContentSignerBuilder signer =
          new JcaContentSignerBuilder(signatureAlgorithm).setProvider(BC);
      byte[] der = builder.build(signer.build(signingKey)).getEncoded();
      return Pem.encode("CERTIFICATE REQUEST", der);
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  static String defaultSignature(KeyPair keys) {
    return switch (keys.getPublic().getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "DSA" -> "SHA256withDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> "SHA256withECDSA";
    };
  }

  /** {@code cacerts} data from these parts, all four keys set. */
  static Map<String, String> plugIn(
      X509Certificate caCert,
      PrivateKey caKey,
      List<X509Certificate> chain,
      List<X509Certificate> roots) {
    Map<String, String> data = new HashMap<>();
    data.put(IstioCaSecrets.CA_CERT, Pem.encode(caCert));
    data.put(IstioCaSecrets.CA_KEY, Pem.encode(caKey));
    data.put(IstioCaSecrets.CERT_CHAIN, Pem.encode(chain));
    data.put(IstioCaSecrets.ROOT_CERT, Pem.encode(roots));
    return data;
  }
}
