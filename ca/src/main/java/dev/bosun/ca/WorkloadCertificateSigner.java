package dev.bosun.ca;

import static dev.bosun.ca.CsrRejectedException.Reason.TTL_TOO_LONG;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;

/**
 * Signs workload certificates: checks a CSR against the caller's SPIFFE identity and issues a
 * short-lived leaf for that identity alone. Thread-safe; everything that does not depend on the
 * request is prepared once, at construction.
 *
 * <p>The profile is istiod's: empty subject, a critical URI SAN (critical because the subject is
 * empty, as RFC 5280 section 4.2.1.6 requires), not a CA, digitalSignature and keyEncipherment,
 * serverAuth and clientAuth, a random 128-bit serial, NotBefore set back by the configured skew and
 * NotAfter never past the expiry of the signing chain.
 */
public final class WorkloadCertificateSigner {
  private static final X500Name EMPTY_SUBJECT = new X500Name(new RDN[0]);

  private final SigningCa ca;
  private final WorkloadCertificateOptions options;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final X500Name issuer;
  private final ContentSigners contentSigners;
  private final Instant chainNotAfter;
  private final List<String> signerChainPem;
  private final Extension basicConstraints;
  private final Extension keyUsage;
  private final Extension extendedKeyUsage;
  private final Extension authorityKeyId;

  public WorkloadCertificateSigner(SigningCa ca, WorkloadCertificateOptions options, Clock clock) {
    this.ca = requireNonNull(ca, "ca");
    this.options = requireNonNull(options, "options");
    this.clock = requireNonNull(clock, "clock");
    X509Certificate signer = ca.signingCertificate();
    this.issuer = X500Name.getInstance(signer.getSubjectX500Principal().getEncoded());
    this.contentSigners =
        ContentSigners.of(
            ca.signingKey(), KeyPolicy.signatureAlgorithm(signer.getPublicKey()), random);
    this.chainNotAfter = ca.chainNotAfter();
    this.signerChainPem = ca.signerChain().stream().map(Pem::encode).toList();
    try {
      this.basicConstraints =
          new Extension(Extension.basicConstraints, true, new BasicConstraints(false).getEncoded());
      this.keyUsage =
          new Extension(
              Extension.keyUsage,
              true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment).getEncoded());
      this.extendedKeyUsage =
          new Extension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      })
                  .getEncoded());
      this.authorityKeyId =
          new Extension(
              Extension.authorityKeyIdentifier,
              false,
              new AuthorityKeyIdentifier(CertificateFields.keyIdOf(signer)).getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode certificate extensions", e);
    }
  }

  /** A signer with istiod's defaults: 24 hours, at most 90 days, dated 2 minutes back. */
  public WorkloadCertificateSigner(SigningCa ca, Clock clock) {
    this(ca, WorkloadCertificateOptions.DEFAULTS, clock);
  }

  /** The CA this signer issues from. */
  public SigningCa ca() {
    return ca;
  }

  /** The lifetimes this signer applies. */
  public WorkloadCertificateOptions options() {
    return options;
  }

  /**
   * Certifies the key of {@code csrPem} for {@code spiffeId}.
   *
   * @param csrPem a PEM PKCS#10 request whose subjectAltName asks for {@code spiffeId} only
   * @param spiffeId the authenticated caller's identity; the only name the certificate carries
   * @param requestedTtl the lifetime asked for; zero or negative means the default
   * @throws CsrRejectedException if the request is malformed, its key is weak or unsupported, it
   *     names another identity, or it asks for more than the maximum lifetime
   * @throws IllegalStateException if the signing chain has expired
   */
  public SignedCertificate sign(String csrPem, String spiffeId, Duration requestedTtl)
      throws CsrRejectedException {
    requireNonNull(spiffeId, "spiffeId");
    requireNonNull(requestedTtl, "requestedTtl");
    if (!spiffeId.startsWith("spiffe://")) {
      throw new IllegalArgumentException(
          "spiffeId: \"" + spiffeId + "\" (expected: spiffe://<trust-domain>/...)");
    }
    Duration ttl = lifetime(requestedTtl);
    SubjectPublicKeyInfo key = CsrValidator.validate(csrPem, spiffeId);

    Instant now = clock.instant();
    if (!now.isBefore(chainNotAfter)) {
      throw new IllegalStateException(
          "cannot sign: the signing chain expired at " + chainNotAfter + " (now " + now + ")");
    }
    Instant notAfter = now.plus(ttl);
    if (notAfter.isAfter(chainNotAfter)) {
      notAfter = chainNotAfter;
    }
    GeneralNames san =
        new GeneralNames(
            new GeneralName(GeneralName.uniformResourceIdentifier, new DERIA5String(spiffeId)));
    byte[] der = build(key, san, now.minus(options.notBeforeSkew()), notAfter);
    X509Certificate leaf;
    try {
      leaf = Pem.toX509(der);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read back the certificate just issued", e);
    }
    List<String> chain = new ArrayList<>(signerChainPem.size() + 1);
    chain.add(Pem.encode("CERTIFICATE", der));
    chain.addAll(signerChainPem);
    return new SignedCertificate(leaf, chain);
  }

  /**
   * A certificate for the control plane's own serving names (DNS SANs such as {@code
   * istiod.istio-system.svc}), with the workload profile otherwise; NotAfter never past the chain.
   */
  public X509Certificate issueServing(PublicKey key, List<String> dnsNames, Duration ttl)
      throws GeneralSecurityException {
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("dnsNames: [] (expected: at least one name)");
    }
    Instant now = clock.instant();
    if (!now.isBefore(chainNotAfter)) {
      throw new IllegalStateException(
          "cannot issue a serving certificate: the signing chain expired at "
              + chainNotAfter
              + " (now "
              + now
              + ")");
    }
    Instant notAfter = now.plus(ttl).isAfter(chainNotAfter) ? chainNotAfter : now.plus(ttl);
    GeneralNames names =
        new GeneralNames(
            dnsNames.stream()
                .map(name -> new GeneralName(GeneralName.dNSName, name))
                .toArray(GeneralName[]::new));
    return Pem.toX509(
        build(
            SubjectPublicKeyInfo.getInstance(key.getEncoded()),
            names,
            now.minus(options.notBeforeSkew()),
            notAfter));
  }

  private Duration lifetime(Duration requested) throws CsrRejectedException {
    if (requested.isNegative() || requested.isZero()) {
      return options.defaultTtl();
    }
    if (requested.compareTo(options.maxTtl()) > 0) {
      throw new CsrRejectedException(
          TTL_TOO_LONG,
          "requested TTL "
              + WorkloadCertificateOptions.format(requested)
              + " is longer than the maximum workload certificate TTL "
              + WorkloadCertificateOptions.format(options.maxTtl()));
    }
    return requested;
  }

  private byte[] build(
      SubjectPublicKeyInfo key, GeneralNames san, Instant notBefore, Instant notAfter) {
    try {
      X509CertificateHolder holder =
          new X509v3CertificateBuilder(
                  issuer,
                  CertificateFields.serial(random),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  EMPTY_SUBJECT,
                  key)
              .addExtension(Extension.subjectAlternativeName, true, san)
              .addExtension(basicConstraints)
              .addExtension(keyUsage)
              .addExtension(extendedKeyUsage)
              .addExtension(authorityKeyId)
              .addExtension(
                  Extension.subjectKeyIdentifier, false, CertificateFields.subjectKeyId(key))
              .build(contentSigners.next());
      return holder.getEncoded();
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a workload certificate", e);
    }
  }
}
