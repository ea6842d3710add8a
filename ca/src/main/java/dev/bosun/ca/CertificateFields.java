package dev.bosun.ca;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** Field values shared by every certificate Bosun issues: serials and key identifiers. */
final class CertificateFields {
  private CertificateFields() {}

  /** A random, positive, non-zero 128-bit serial, as istiod issues them. */
  static BigInteger serial(SecureRandom random) {
    BigInteger serial;
    do {
      serial = new BigInteger(128, random);
    } while (serial.signum() == 0);
    return serial;
  }

  /** RFC 5280 section 4.2.1.2 method 1: the SHA-1 of the subject public key bits. */
  static SubjectKeyIdentifier subjectKeyId(SubjectPublicKeyInfo key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      return new SubjectKeyIdentifier(sha1.digest(key.getPublicKeyData().getBytes()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JVM", e);
    }
  }

  /**
   * The key identifier a certificate carries for itself, or the one computed from its key when it
   * has none (certificates made by other tools may lack the extension).
   */
  static byte[] keyIdOf(X509Certificate certificate) {
    byte[] extension = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
    if (extension != null) {
      return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(extension).getOctets())
          .getKeyIdentifier();
    }
    return subjectKeyId(SubjectPublicKeyInfo.getInstance(certificate.getPublicKey().getEncoded()))
        .getKeyIdentifier();
  }
}
