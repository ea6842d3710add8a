package dev.bosun.ca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads and writes the PEM text that Kubernetes Secrets, the Istio agent and Envoy exchange. Parse
 * failures are {@link IllegalArgumentException}s whose message says what was found; callers add
 * which input it came from.
 */
public final class Pem {
  private static final Base64.Encoder MIME = Base64.getMimeEncoder(64, new byte[] {'\n'});

  private Pem() {}

  /** One {@code CERTIFICATE} block, ending in a newline. */
  public static String encode(X509Certificate certificate) {
    try {
      return encode("CERTIFICATE", certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
  }

  /** Several {@code CERTIFICATE} blocks, one after the other. */
  public static String encode(List<X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    certificates.forEach(c -> out.append(encode(c)));
    return out.toString();
  }

  /**
   * The key in the traditional form istiod writes ({@code EC PRIVATE KEY} or {@code RSA PRIVATE
   * KEY}); other algorithms as PKCS#8 {@code PRIVATE KEY}.
   */
  public static String encode(PrivateKey key) {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
    String algorithm = key.getAlgorithm();
    try {
      if (key instanceof ECPrivateKey ec) {
        return encode("EC PRIVATE KEY", traditionalEc(ec, info).getEncoded());
      }
      if (algorithm.equals("RSA")) {
        return encode("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded());
      }
      return encode("PRIVATE KEY", info.getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + algorithm + " private key", e);
    }
  }

  /**
   * RFC 5915 ECPrivateKey with the curve and public key filled in, as Go and OpenSSL write it: the
   * JDK's PKCS#8 form keeps the curve outside the inner structure, which alone would not be
   * readable.
   */
  private static org.bouncycastle.asn1.sec.ECPrivateKey traditionalEc(
      ECPrivateKey key, PrivateKeyInfo info) {
    if (!(info.getPrivateKeyAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve)) {
      throw new IllegalArgumentException("EC key without a named curve cannot be encoded");
    }
    X9ECParameters parameters = ECNamedCurveTable.getByOID(curve);
    ECPoint publicPoint =
        new FixedPointCombMultiplier().multiply(parameters.getG(), key.getS()).normalize();
    return new org.bouncycastle.asn1.sec.ECPrivateKey(
        parameters.getN().bitLength(),
        key.getS(),
        new DERBitString(publicPoint.getEncoded(false)),
        curve);
  }

  static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + MIME.encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /** Every {@code CERTIFICATE} block, in order; other block types are an error. */
  public static List<X509Certificate> certificates(String pem) {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object block = parser.readObject(); block != null; block = parser.readObject()) {
        if (!(block instanceof X509CertificateHolder holder)) {
          throw new IllegalArgumentException(
              "holds " + blockName(block) + " (expected: only CERTIFICATE blocks)");
        }
        out.add(toX509(holder.getEncoded()));
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("is not valid PEM: " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * The private key of a PKCS#8 {@code PRIVATE KEY}, {@code EC PRIVATE KEY} (optionally after
   * {@code EC PARAMETERS}, as {@code openssl ecparam -genkey} writes it) or {@code RSA PRIVATE KEY}
   * block.
   */
  public static PrivateKey privateKey(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object block = parser.readObject();
      while (block instanceof ASN1ObjectIdentifier) {
        block = parser.readObject(); // EC PARAMETERS: the curve is repeated inside the key
      }
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (block instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (block instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (block == null) {
        throw new IllegalArgumentException("holds no PEM block (expected: a private key)");
      }
      throw new IllegalArgumentException(
          "holds "
              + blockName(block)
              + " (expected: an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
    } catch (PEMException e) {
      throw new IllegalArgumentException("is not a readable private key: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("is not valid PEM: " + e.getMessage(), e);
    }
  }

  /** The single {@code CERTIFICATE REQUEST} block of a CSR. */
  static PKCS10CertificationRequest certificationRequest(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object block = parser.readObject();
      if (block instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
      if (block == null) {
        throw new IllegalArgumentException("no PEM block found (expected: CERTIFICATE REQUEST)");
      }
      throw new IllegalArgumentException(
          "found " + blockName(block) + " (expected: CERTIFICATE REQUEST)");
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  static X509Certificate toX509(byte[] der) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** The kind of a parsed block with its article: "a CERTIFICATE block". */
  private static String blockName(Object block) {
    String name = kind(block);
    return ("AEIOU".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
  }

  private static String kind(Object block) {
    if (block instanceof X509CertificateHolder) {
      return "CERTIFICATE block";
    }
    if (block instanceof PKCS10CertificationRequest) {
      return "CERTIFICATE REQUEST block";
    }
    if (block instanceof PEMKeyPair || block instanceof PrivateKeyInfo) {
      return "private key block";
    }
    if (block instanceof PKCS8EncryptedPrivateKeyInfo) {
      return "ENCRYPTED PRIVATE KEY block (encrypted keys are not supported)";
    }
    if (block instanceof PEMEncryptedKeyPair) {
      return "password-protected private key block (encrypted keys are not supported)";
    }
    if (block instanceof SubjectPublicKeyInfo) {
      return "PUBLIC KEY block";
    }
    return block.getClass().getSimpleName() + " block";
  }
}
