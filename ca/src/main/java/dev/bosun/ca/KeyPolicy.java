package dev.bosun.ca;

import java.io.IOException;
import java.security.PublicKey;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which public keys Bosun certifies or signs with: RSA of at least 2048 bits and ECDSA on P-256 or
 * P-384, the same set Istio's agents generate. Works on the encoded key so a CSR's key is judged
 * before any JCA conversion.
 */
final class KeyPolicy {
  /** What is accepted, for error messages. */
  static final String ACCEPTED = "RSA of at least 2048 bits, or EC on P-256 or P-384";

  static final int MIN_RSA_BITS = 2048;

  private static final Map<ASN1ObjectIdentifier, String> CURVES =
      Map.of(
          SECObjectIdentifiers.secp256r1, "P-256",
          SECObjectIdentifiers.secp384r1, "P-384",
          SECObjectIdentifiers.secp521r1, "P-521",
          SECObjectIdentifiers.secp256k1, "secp256k1",
          SECObjectIdentifiers.secp224r1, "P-224",
          X9ObjectIdentifiers.prime192v1, "P-192");

  private static final Map<ASN1ObjectIdentifier, String> ALGORITHMS =
      Map.of(
          EdECObjectIdentifiers.id_Ed25519, "Ed25519",
          EdECObjectIdentifiers.id_Ed448, "Ed448",
          X9ObjectIdentifiers.id_dsa, "DSA",
          PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
          PKCSObjectIdentifiers.dhKeyAgreement, "DH",
          EdECObjectIdentifiers.id_X25519, "X25519");

  private KeyPolicy() {}

  /** A short name for the key: {@code RSA 2048-bit}, {@code EC P-256}, {@code Ed25519}. */
  static String describe(SubjectPublicKeyInfo key) {
    ASN1ObjectIdentifier algorithm = key.getAlgorithm().getAlgorithm();
    if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      return "RSA " + rsaBits(key) + "-bit";
    }
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      ASN1ObjectIdentifier curve = namedCurve(key);
      if (curve == null) {
        return "EC with explicit curve parameters";
      }
      return "EC " + CURVES.getOrDefault(curve, "curve " + curve.getId());
    }
    return ALGORITHMS.getOrDefault(algorithm, "key algorithm " + algorithm.getId());
  }

  static String describe(PublicKey key) {
    return describe(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
  }

  /** Whether the key is one Bosun signs for or signs with. */
  static boolean accepted(SubjectPublicKeyInfo key) {
    ASN1ObjectIdentifier algorithm = key.getAlgorithm().getAlgorithm();
    if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
      return rsaBits(key) >= MIN_RSA_BITS;
    }
    if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      ASN1ObjectIdentifier curve = namedCurve(key);
      return SECObjectIdentifiers.secp256r1.equals(curve)
          || SECObjectIdentifiers.secp384r1.equals(curve);
    }
    return false;
  }

  static boolean accepted(PublicKey key) {
    return accepted(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
  }

  /**
   * The signature algorithm a CA with this (accepted) key signs with: the hash matches the curve
   * size, as Go's x509 package (and so istiod) chooses it.
   */
  static String signatureAlgorithm(PublicKey caKey) {
    SubjectPublicKeyInfo key = SubjectPublicKeyInfo.getInstance(caKey.getEncoded());
    if (key.getAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      return SECObjectIdentifiers.secp384r1.equals(namedCurve(key))
          ? "SHA384withECDSA"
          : "SHA256withECDSA";
    }
    return "SHA256withRSA";
  }

  private static int rsaBits(SubjectPublicKeyInfo key) {
    try {
      return RSAPublicKey.getInstance(key.parsePublicKey()).getModulus().bitLength();
    } catch (IOException | IllegalArgumentException e) {
      return 0;
    }
  }

  private static ASN1ObjectIdentifier namedCurve(SubjectPublicKeyInfo key) {
    return key.getAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve ? curve : null;
  }
}
