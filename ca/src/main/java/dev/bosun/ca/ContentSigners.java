package dev.bosun.ca;

import java.io.IOException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.bc.BcECContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes one {@link ContentSigner} per certificate over the CA's key, since signers hold per-use
 * state and the CA signs from many threads.
 *
 * <p>ECDSA goes through BouncyCastle's lightweight API: on JDK 17 SunEC signs P-256 about six times
 * slower (measured), and the lightweight API also skips converting the key on every use. RSA stays
 * on the JDK's own provider, which is as fast as BouncyCastle's.
 */
@FunctionalInterface
interface ContentSigners {
  /** A signer for one certificate. */
  ContentSigner next() throws OperatorCreationException;

  static ContentSigners of(PrivateKey key, String signatureAlgorithm, SecureRandom random) {
    if (!key.getAlgorithm().equals("EC")) {
      return () ->
          new JcaContentSignerBuilder(signatureAlgorithm).setSecureRandom(random).build(key);
    }
    AlgorithmIdentifier signature =
        new DefaultSignatureAlgorithmIdentifierFinder().find(signatureAlgorithm);
    AlgorithmIdentifier digest = new DefaultDigestAlgorithmIdentifierFinder().find(signature);
    AsymmetricKeyParameter ecKey;
    try {
      ecKey = PrivateKeyFactory.createKey(key.getEncoded());
    } catch (IOException e) {
      throw new IllegalArgumentException("signing key: not a usable EC key", e);
    }
    return () ->
        new BcECContentSignerBuilder(signature, digest).setSecureRandom(random).build(ecKey);
  }
}
