package dev.bosun.ca;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * Checks CA material before the CA starts with it, so a broken Secret fails startup with a message
 * naming the Secret key and certificate at fault instead of producing certificates nobody trusts.
 */
final class CaChainValidator {
  /** A certificate and where it was read from, for messages: {@code cert-chain.pem[1]}. */
  record Located(String source, X509Certificate certificate) {
    String describe() {
      String subject = certificate.getSubjectX500Principal().getName();
      return source + " (" + (subject.isEmpty() ? "empty subject" : subject) + ")";
    }
  }

  private final String secret;
  private final Instant now;

  /**
   * @param secret the Secret's name, which starts every message
   * @param now the time validity periods are checked at
   */
  CaChainValidator(String secret, Instant now) {
    this.secret = secret;
    this.now = now;
  }

  /**
   * Checks the signing certificate, its key, the path up to a root and the roots themselves, and
   * returns the CA with the root the path ends in first.
   *
   * @param signer the signing certificate ({@code ca-cert.pem})
   * @param key its private key ({@code ca-key.pem})
   * @param intermediates the certificates above {@code signer}, nearest first, without the root
   * @param roots the trusted roots ({@code root-cert.pem})
   */
  SigningCa validate(
      Located signer, PrivateKey key, List<Located> intermediates, List<Located> roots)
      throws CaConfigurationException {
    checkKey(signer, key);
    List<Located> path = new ArrayList<>();
    path.add(signer);
    path.addAll(intermediates);
    for (Located ca : path) {
      checkIsCa(ca);
    }
    for (int i = 0; i + 1 < path.size(); i++) {
      checkIssued(path.get(i), path.get(i + 1));
    }
    for (Located root : roots) {
      checkSelfSigned(root);
    }
    Located anchor = anchor(path.get(path.size() - 1), roots);
    for (Located certificate : path) {
      checkValidity(certificate);
    }
    for (Located root : roots) {
      checkValidity(root);
    }
    boolean signerIsRoot = signer.certificate().equals(anchor.certificate());
    if (!signerIsRoot) {
      checkPkix(path, anchor);
    }
    List<X509Certificate> orderedRoots = new ArrayList<>();
    orderedRoots.add(anchor.certificate());
    roots.stream()
        .map(Located::certificate)
        .filter(r -> !r.equals(anchor.certificate()))
        .forEach(orderedRoots::add);
    return new SigningCa(
        signer.certificate(),
        key,
        intermediates.stream().map(Located::certificate).toList(),
        orderedRoots);
  }

  private void checkKey(Located signer, PrivateKey key) throws CaConfigurationException {
    var publicKey = signer.certificate().getPublicKey();
    if (!KeyPolicy.accepted(publicKey)) {
      throw fail(
          signer.describe()
              + " has a "
              + KeyPolicy.describe(publicKey)
              + " key (expected: "
              + KeyPolicy.ACCEPTED
              + ")");
    }
    if (!publicKey.getAlgorithm().equals(key.getAlgorithm()) || !signsFor(key, signer)) {
      throw fail(
          "ca-key.pem does not match the public key of "
              + signer.describe()
              + ": the key and the certificate must be a pair");
    }
  }

  /** Whether a test message signed by {@code key} verifies with the certificate's public key. */
  private static boolean signsFor(PrivateKey key, Located signer) {
    String algorithm = KeyPolicy.signatureAlgorithm(signer.certificate().getPublicKey());
    try {
      byte[] message = "bosun-ca-key-check".getBytes(StandardCharsets.UTF_8);
      Signature signature = Signature.getInstance(algorithm);
      signature.initSign(key);
      signature.update(message);
      byte[] signed = signature.sign();
      signature.initVerify(signer.certificate().getPublicKey());
      signature.update(message);
      return signature.verify(signed);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private void checkIsCa(Located ca) throws CaConfigurationException {
    if (ca.certificate().getBasicConstraints() < 0) {
      throw fail(
          ca.describe()
              + " is not a CA certificate (basic constraints CA:FALSE or missing; expected:"
              + " CA:TRUE)");
    }
    boolean[] usage = ca.certificate().getKeyUsage();
    // No key usage extension at all means no restriction (RFC 5280 section 4.2.1.3); many
    // openssl-made CAs have none.
    if (usage != null && (usage.length <= 5 || !usage[5])) {
      throw fail(
          ca.describe()
              + " may not sign certificates: its key usage lacks keyCertSign (expected: keyCertSign,"
              + " usually with cRLSign)");
    }
  }

  private void checkIssued(Located child, Located issuer) throws CaConfigurationException {
    X509Certificate c = child.certificate();
    if (!c.getIssuerX500Principal().equals(issuer.certificate().getSubjectX500Principal())) {
      throw fail(
          "broken chain: "
              + child.describe()
              + " was issued by "
              + c.getIssuerX500Principal().getName()
              + ", not by the next certificate "
              + issuer.describe()
              + " (expected: ca-cert.pem, then cert-chain.pem from its issuer up to the root)");
    }
    if (!verifies(c, issuer.certificate())) {
      throw fail(
          "broken chain: the signature of "
              + child.describe()
              + " does not verify with the key of "
              + issuer.describe());
    }
  }

  private void checkSelfSigned(Located root) throws CaConfigurationException {
    X509Certificate r = root.certificate();
    if (!r.getIssuerX500Principal().equals(r.getSubjectX500Principal()) || !verifies(r, r)) {
      throw fail(
          root.describe()
              + " is not a self-signed root (issuer "
              + r.getIssuerX500Principal().getName()
              + "); root-cert.pem must hold only root certificates");
    }
  }

  /** The root that issued the top of the path, or the path's top itself if it is a root. */
  private Located anchor(Located top, List<Located> roots) throws CaConfigurationException {
    for (Located root : roots) {
      if (root.certificate().equals(top.certificate())) {
        return root;
      }
    }
    for (Located root : roots) {
      if (top.certificate()
              .getIssuerX500Principal()
              .equals(root.certificate().getSubjectX500Principal())
          && verifies(top.certificate(), root.certificate())) {
        return root;
      }
    }
    String rootNames =
        roots.stream().map(Located::describe).reduce((a, b) -> a + ", " + b).orElse("none");
    if (verifies(top.certificate(), top.certificate())) {
      throw fail(
          "broken chain: "
              + top.describe()
              + " is a self-signed root that root-cert.pem does not hold (root-cert.pem holds "
              + rootNames
              + ")");
    }
    throw fail(
        "broken chain: "
            + top.describe()
            + ", issued by "
            + top.certificate().getIssuerX500Principal().getName()
            + ", is not signed by any certificate in root-cert.pem ("
            + rootNames
            + ")");
  }

  private void checkValidity(Located located) throws CaConfigurationException {
    X509Certificate c = located.certificate();
    Instant notBefore = c.getNotBefore().toInstant();
    Instant notAfter = c.getNotAfter().toInstant();
    String problem = null;
    if (now.isAfter(notAfter)) {
      problem = " expired at " + notAfter + " (";
    } else if (now.isBefore(notBefore)) {
      problem = " is not valid yet (";
    }
    if (problem != null) {
      throw fail(
          located.describe()
              + problem
              + "valid from "
              + notBefore
              + " to "
              + notAfter
              + "; now "
              + now
              + ")");
    }
  }

  /**
   * The JDK's RFC 5280 path validation over the same path, for what the checks above do not cover
   * (path length and name constraints, unknown critical extensions).
   */
  private void checkPkix(List<Located> path, Located anchor) throws CaConfigurationException {
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      PKIXParameters parameters =
          new PKIXParameters(Set.of(new TrustAnchor(anchor.certificate(), null)));
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX")
          .validate(
              factory.generateCertPath(path.stream().map(Located::certificate).toList()),
              parameters);
    } catch (CertPathValidatorException e) {
      String at =
          e.getIndex() >= 0 && e.getIndex() < path.size()
              ? " at " + path.get(e.getIndex()).describe()
              : "";
      throw fail(
          "the chain to " + anchor.describe() + " does not validate" + at + ": " + e.getMessage(),
          e);
    } catch (GeneralSecurityException e) {
      throw fail(
          "the chain to " + anchor.describe() + " cannot be validated: " + e.getMessage(), e);
    }
  }

  private static boolean verifies(X509Certificate certificate, X509Certificate issuer) {
    try {
      certificate.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private CaConfigurationException fail(String message) {
    return new CaConfigurationException(secret + ": " + message);
  }

  private CaConfigurationException fail(String message, Throwable cause) {
    return new CaConfigurationException(secret + ": " + message, cause);
  }
}
