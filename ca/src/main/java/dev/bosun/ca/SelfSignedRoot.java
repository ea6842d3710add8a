package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Generates the root a CA uses when no plug-in CA is configured, shaped like istiod's self-signed
 * root: subject {@code O=<organization>}, a CA that signs certificates and CRLs.
 */
public final class SelfSignedRoot {
  /** istiod's default root lifetime ({@code CITADEL_SELF_SIGNED_CA_CERT_TTL}, 3650 days). */
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(3650);

  /** The organization istiod names its root after: the trust domain. */
  public static final String DEFAULT_ORGANIZATION = "cluster.local";

  /**
   * How far the root's NotBefore is set in the past, so a workload whose clock runs slightly behind
   * still accepts a root generated a moment ago (istiod uses the current time).
   */
  public static final Duration BACKDATE = Duration.ofMinutes(2);

  private SelfSignedRoot() {}

  /** A root with the default lifetime. */
  public static SigningCa generate(String organization, KeyAlgorithm algorithm, Clock clock) {
    return generate(organization, algorithm, DEFAULT_VALIDITY, clock);
  }

  /**
   * A new key pair of {@code algorithm} and a root certificate for it valid for {@code validity}
   * from {@code clock}'s now.
   */
  public static SigningCa generate(
      String organization, KeyAlgorithm algorithm, Duration validity, Clock clock) {
    requireNonNull(organization, "organization");
    requireNonNull(algorithm, "algorithm");
    requireNonNull(validity, "validity");
    requireNonNull(clock, "clock");
    if (organization.isBlank()) {
      throw new IllegalArgumentException(
          "organization: \"" + organization + "\" (expected: the trust domain)");
    }
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity: " + validity + " (expected: > 0)");
    }
    SecureRandom random = new SecureRandom();
    KeyPair keys = algorithm.generate(random);
    X500Name subject =
        new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, organization).build();
    return root(subject, keys, algorithm.signatureAlgorithm(), validity, clock, random);
  }

  /**
   * {@code current} with a new root certificate, as istiod renews its self-signed root before it
   * expires: the same key and subject, a new serial number and a new validity of {@code validity}
   * from now. Certificates the old root signed verify against the new one (same issuer name, same
   * key), so nothing signed before the renewal stops being trusted.
   */
  public static SigningCa renew(SigningCa current, Duration validity, Clock clock) {
    requireNonNull(current, "current");
    requireNonNull(validity, "validity");
    requireNonNull(clock, "clock");
    if (!current.isSelfSigned()) {
      throw new IllegalArgumentException("current: not a self-signed root");
    }
    X509Certificate old = current.signingCertificate();
    X500Name subject = X500Name.getInstance(old.getSubjectX500Principal().getEncoded());
    String signature =
        old.getPublicKey().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    return root(
        subject,
        new KeyPair(old.getPublicKey(), current.signingKey()),
        signature,
        validity,
        clock,
        new SecureRandom());
  }

  private static SigningCa root(
      X500Name subject,
      KeyPair keys,
      String signatureAlgorithm,
      Duration validity,
      Clock clock,
      SecureRandom random) {
    Instant now = clock.instant();
    SubjectPublicKeyInfo publicKey =
        SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
    SubjectKeyIdentifier keyId = CertificateFields.subjectKeyId(publicKey);
    try {
      X509v3CertificateBuilder builder =
          new X509v3CertificateBuilder(
                  subject,
                  CertificateFields.serial(random),
                  Date.from(now.minus(BACKDATE)),
                  Date.from(now.plus(validity)),
                  subject,
                  publicKey)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
              .addExtension(Extension.subjectKeyIdentifier, false, keyId)
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  new AuthorityKeyIdentifier(keyId.getKeyIdentifier()));
      JcaContentSignerBuilder signer =
          new JcaContentSignerBuilder(signatureAlgorithm).setSecureRandom(random);
      X509Certificate root =
          Pem.toX509(builder.build(signer.build(keys.getPrivate())).getEncoded());
      return SigningCa.selfSigned(root, keys.getPrivate());
    } catch (IOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a self-signed root for " + subject, e);
    }
  }
}
