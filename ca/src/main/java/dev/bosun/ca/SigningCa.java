package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The material the CA signs with: its certificate and key, the intermediates between it and the
 * root, and the trusted roots. Loaded and checked by {@link IstioCaSecrets} or made by {@link
 * SelfSignedRoot}; this type itself trusts what it is given.
 *
 * @param signingCertificate the certificate whose key signs workload certificates
 * @param signingKey the private key of {@code signingCertificate}
 * @param intermediates the certificates from the issuer of {@code signingCertificate} up to, but
 *     excluding, the root; empty when the root issued it or when it is the root
 * @param roots the trusted roots; the first is the one the signing chain ends in, any others are
 *     also trusted (for example the previous root during a rotation)
 */
public record SigningCa(
    X509Certificate signingCertificate,
    PrivateKey signingKey,
    List<X509Certificate> intermediates,
    List<X509Certificate> roots) {

  public SigningCa {
    requireNonNull(signingCertificate, "signingCertificate");
    requireNonNull(signingKey, "signingKey");
    intermediates = List.copyOf(intermediates);
    roots = List.copyOf(roots);
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("roots: [] (expected: at least one root certificate)");
    }
  }

  /** A CA whose signing certificate is its own, single root. */
  public static SigningCa selfSigned(X509Certificate root, PrivateKey key) {
    return new SigningCa(root, key, List.of(), List.of(root));
  }

  /** The root the signing chain ends in. */
  public X509Certificate anchorRoot() {
    return roots.get(0);
  }

  /** Whether the signing certificate is the root itself. */
  public boolean isSelfSigned() {
    return signingCertificate.equals(anchorRoot());
  }

  /** Every trusted root as concatenated PEM: what workloads are given to trust. */
  public String rootPem() {
    return Pem.encode(roots);
  }

  /**
   * The certificates above a leaf, from the signing certificate to the anchor root, each once: the
   * signing certificate, the intermediates, the root (just the root for a self-signed CA).
   */
  public List<X509Certificate> signerChain() {
    List<X509Certificate> chain = new ArrayList<>(intermediates.size() + 2);
    if (!isSelfSigned()) {
      chain.add(signingCertificate);
    }
    chain.addAll(intermediates);
    chain.add(anchorRoot());
    return List.copyOf(chain);
  }

  /**
   * A leaf's chain in the order of Istio's {@code cert_chain}: the leaf first, then the signing
   * chain, the root last, one PEM certificate per element.
   */
  public List<String> certChainPem(X509Certificate leaf) {
    List<String> chain = new ArrayList<>();
    chain.add(Pem.encode(leaf));
    signerChain().forEach(c -> chain.add(Pem.encode(c)));
    return List.copyOf(chain);
  }

  /**
   * The earliest expiry along the signing chain: no certificate issued by this CA can be trusted
   * past it.
   */
  public Instant chainNotAfter() {
    Instant earliest = signingCertificate.getNotAfter().toInstant();
    for (X509Certificate c : signerChain()) {
      Instant notAfter = c.getNotAfter().toInstant();
      if (notAfter.isBefore(earliest)) {
        earliest = notAfter;
      }
    }
    return earliest;
  }

  /**
   * Equal when the certificates are equal and the keys hold the same secret, whatever their
   * encoding (a key read back from PEM is a different object than the one generated).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof SigningCa other
        && signingCertificate.equals(other.signingCertificate)
        && intermediates.equals(other.intermediates)
        && roots.equals(other.roots)
        && Arrays.equals(keySecret(signingKey), keySecret(other.signingKey));
  }

  @Override
  public int hashCode() {
    return Objects.hash(signingCertificate, intermediates, roots);
  }

  /** Names the certificates; never prints the key. */
  @Override
  public String toString() {
    return "SigningCa{signer="
        + signingCertificate.getSubjectX500Principal().getName()
        + ", intermediates="
        + intermediates.size()
        + ", roots="
        + roots.stream().map(r -> r.getSubjectX500Principal().getName()).toList()
        + "}";
  }

  private static byte[] keySecret(PrivateKey key) {
    if (key instanceof ECPrivateKey ec) {
      return ec.getS().toByteArray();
    }
    if (key instanceof RSAPrivateKey rsa) {
      return rsa.getPrivateExponent().toByteArray();
    }
    return key.getEncoded();
  }
}
