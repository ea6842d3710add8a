package dev.bosun.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

/** The kind of key pair a self-signed root is generated with. */
public sealed interface KeyAlgorithm {
  /** ECDSA on NIST P-256: Bosun's default for a generated root. */
  static KeyAlgorithm ecdsaP256() {
    return EcdsaP256.INSTANCE;
  }

  /** RSA with 2048-bit keys, istiod's default for its self-signed root. */
  static KeyAlgorithm rsa() {
    return new Rsa(Rsa.DEFAULT_BITS);
  }

  /** RSA with keys of {@code bits} bits (at least 2048). */
  static KeyAlgorithm rsa(int bits) {
    return new Rsa(bits);
  }

  /** A fresh key pair. */
  KeyPair generate(SecureRandom random);

  /** The JCA signature algorithm certificates signed by this key use. */
  String signatureAlgorithm();

  /** ECDSA with the P-256 curve and SHA-256 signatures. */
  record EcdsaP256() implements KeyAlgorithm {
    static final EcdsaP256 INSTANCE = new EcdsaP256();

    @Override
    public KeyPair generate(SecureRandom random) {
      try {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("this JVM cannot generate P-256 keys", e);
      }
    }

    @Override
    public String signatureAlgorithm() {
      return "SHA256withECDSA";
    }

    @Override
    public String toString() {
      return "ECDSA P-256";
    }
  }

  /** RSA with SHA-256 PKCS#1 v1.5 signatures. */
  record Rsa(int bits) implements KeyAlgorithm {
    static final int DEFAULT_BITS = 2048;

    public Rsa {
      if (bits < DEFAULT_BITS) {
        throw new IllegalArgumentException("RSA key size: " + bits + " (expected: >= 2048)");
      }
    }

    @Override
    public KeyPair generate(SecureRandom random) {
      try {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(bits, random);
        return generator.generateKeyPair();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("this JVM cannot generate RSA keys", e);
      }
    }

    @Override
    public String signatureAlgorithm() {
      return "SHA256withRSA";
    }

    @Override
    public String toString() {
      return "RSA " + bits;
    }
  }
}
