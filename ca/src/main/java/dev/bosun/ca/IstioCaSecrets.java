package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two Secrets istiod keeps its CA in, with istiod's names, and the conversion between their
 * data and a {@link SigningCa}. Values are PEM text (the Secret's data, base64-decoded); reading
 * and writing the Secrets themselves is the control plane's job.
 *
 * <ul>
 *   <li>{@value #SELF_SIGNED_SECRET} holds the root istiod (or Bosun) generated itself.
 *   <li>{@value #PLUG_IN_SECRET} holds an operator-provided CA: {@value #CA_CERT} is the signing
 *       certificate, {@value #CA_KEY} its key, {@value #CERT_CHAIN} the chain from it up to the
 *       root, {@value #ROOT_CERT} the trusted root(s).
 * </ul>
 */
public final class IstioCaSecrets {
  /** The self-signed CA's Secret, in the control plane's namespace. */
  public static final String SELF_SIGNED_SECRET = "istio-ca-secret";

  /** The Secret type istiod gives {@value #SELF_SIGNED_SECRET}. */
  public static final String SELF_SIGNED_SECRET_TYPE = "istio.io/ca-root";

  /** The plug-in CA's Secret, in the control plane's namespace. */
  public static final String PLUG_IN_SECRET = "cacerts";

  /** The signing certificate. */
  public static final String CA_CERT = "ca-cert.pem";

  /** The signing certificate's private key. */
  public static final String CA_KEY = "ca-key.pem";

  /** The chain from the signing certificate up to the root. */
  public static final String CERT_CHAIN = "cert-chain.pem";

  /** The trusted root certificate(s). */
  public static final String ROOT_CERT = "root-cert.pem";

  /** A workload key slot istiod leaves empty in {@value #SELF_SIGNED_SECRET}. */
  public static final String PRIVATE_KEY = "key.pem";

  private IstioCaSecrets() {}

  /**
   * The data of {@value #SELF_SIGNED_SECRET} for a self-signed CA, laid out as istiod writes it:
   * {@value #CA_CERT} and {@value #ROOT_CERT} both hold the root, {@value #CA_KEY} its key in the
   * traditional PEM form, and {@value #CERT_CHAIN} and {@value #PRIVATE_KEY} are empty.
   */
  public static Map<String, String> selfSignedData(SigningCa ca) {
    requireNonNull(ca, "ca");
    if (!ca.isSelfSigned()) {
      throw new IllegalArgumentException(
          "ca: signed by "
              + ca.signingCertificate().getIssuerX500Principal().getName()
              + " (expected: a self-signed root; a CA issued by another root belongs in "
              + PLUG_IN_SECRET
              + ")");
    }
    String root = Pem.encode(ca.signingCertificate());
    Map<String, String> data = new LinkedHashMap<>();
    data.put(CA_CERT, root);
    data.put(CA_KEY, Pem.encode(ca.signingKey()));
    data.put(CERT_CHAIN, "");
    data.put(PRIVATE_KEY, "");
    data.put(ROOT_CERT, root);
    return Map.copyOf(data);
  }

  /**
   * Reads {@value #SELF_SIGNED_SECRET}: like istiod, only {@value #CA_CERT} and {@value #CA_KEY}
   * are read, and the root is {@value #CA_CERT} itself.
   *
   * @throws CaConfigurationException if a key is missing or unreadable, the key does not match the
   *     certificate, or the certificate is not a valid self-signed CA at {@code clock}'s now
   */
  public static SigningCa loadSelfSigned(Map<String, String> data, Clock clock)
      throws CaConfigurationException {
    requireNonNull(data, "data");
    requireNonNull(clock, "clock");
    CaChainValidator.Located signer = signer(SELF_SIGNED_SECRET, data);
    PrivateKey key = key(SELF_SIGNED_SECRET, data);
    X509Certificate c = signer.certificate();
    if (!c.getIssuerX500Principal().equals(c.getSubjectX500Principal())) {
      throw new CaConfigurationException(
          SELF_SIGNED_SECRET
              + ": "
              + signer.describe()
              + " is not self-signed (issuer "
              + c.getIssuerX500Principal().getName()
              + "); a CA issued by another root belongs in the "
              + PLUG_IN_SECRET
              + " Secret");
    }
    return new CaChainValidator(SELF_SIGNED_SECRET, clock.instant())
        .validate(signer, key, List.of(), List.of(new CaChainValidator.Located(CA_CERT, c)));
  }

  /**
   * Reads and checks {@value #PLUG_IN_SECRET}. All four keys must be present; {@value #CERT_CHAIN}
   * may be empty when the root issued {@value #CA_CERT} directly. As in Istio's plug-in layout,
   * {@value #CERT_CHAIN} may start with {@value #CA_CERT} and may end with the root; both are
   * recognised and not taken for intermediates.
   *
   * @throws CaConfigurationException naming the key and certificate at fault: a missing key,
   *     unreadable PEM, a private key that does not match {@value #CA_CERT}, a signing certificate
   *     that is not a CA or may not sign certificates, a chain whose signatures do not link {@value
   *     #CA_CERT} through {@value #CERT_CHAIN} to a self-signed root in {@value #ROOT_CERT}, or a
   *     certificate expired or not yet valid at {@code clock}'s now
   */
  public static SigningCa loadPlugIn(Map<String, String> data, Clock clock)
      throws CaConfigurationException {
    requireNonNull(data, "data");
    requireNonNull(clock, "clock");
    for (String name : List.of(CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT)) {
      if (!data.containsKey(name) || data.get(name) == null) {
        throw new CaConfigurationException(
            PLUG_IN_SECRET
                + ": missing key "
                + name
                + " (expected keys: "
                + CA_CERT
                + ", "
                + CA_KEY
                + ", "
                + CERT_CHAIN
                + ", "
                + ROOT_CERT
                + ")");
      }
    }
    CaChainValidator.Located signer = signer(PLUG_IN_SECRET, data);
    PrivateKey key = key(PLUG_IN_SECRET, data);
    List<CaChainValidator.Located> roots = certificates(PLUG_IN_SECRET, data, ROOT_CERT);
    if (roots.isEmpty()) {
      throw new CaConfigurationException(
          PLUG_IN_SECRET
              + ": "
              + ROOT_CERT
              + " is empty (expected: at least one root certificate)");
    }
    List<CaChainValidator.Located> chain = certificates(PLUG_IN_SECRET, data, CERT_CHAIN);
    return new CaChainValidator(PLUG_IN_SECRET, clock.instant())
        .validate(signer, key, intermediates(signer, chain, roots), roots);
  }

  /**
   * The certificates of {@value #CERT_CHAIN} strictly between the signing certificate and the root:
   * copies of {@value #CA_CERT} at the start and roots at the end are dropped.
   */
  private static List<CaChainValidator.Located> intermediates(
      CaChainValidator.Located signer,
      List<CaChainValidator.Located> chain,
      List<CaChainValidator.Located> roots) {
    int from = 0;
    while (from < chain.size() && chain.get(from).certificate().equals(signer.certificate())) {
      from++;
    }
    int to = chain.size();
    while (to > from && isRoot(chain.get(to - 1), roots)) {
      to--;
    }
    return new ArrayList<>(chain.subList(from, to));
  }

  private static boolean isRoot(
      CaChainValidator.Located certificate, List<CaChainValidator.Located> roots) {
    return roots.stream().anyMatch(r -> r.certificate().equals(certificate.certificate()));
  }

  private static CaChainValidator.Located signer(String secret, Map<String, String> data)
      throws CaConfigurationException {
    List<CaChainValidator.Located> certificates = certificates(secret, data, CA_CERT);
    if (certificates.size() != 1) {
      throw new CaConfigurationException(
          secret
              + ": "
              + CA_CERT
              + " holds "
              + certificates.size()
              + " certificates (expected: exactly one, the signing certificate; intermediates"
              + " belong in "
              + CERT_CHAIN
              + ")");
    }
    return certificates.get(0);
  }

  private static PrivateKey key(String secret, Map<String, String> data)
      throws CaConfigurationException {
    String pem = required(secret, data, CA_KEY);
    try {
      return Pem.privateKey(pem);
    } catch (IllegalArgumentException e) {
      throw new CaConfigurationException(secret + ": " + CA_KEY + " " + e.getMessage(), e);
    }
  }

  private static List<CaChainValidator.Located> certificates(
      String secret, Map<String, String> data, String name) throws CaConfigurationException {
    String pem = name.equals(CERT_CHAIN) ? data.get(name) : required(secret, data, name);
    List<X509Certificate> parsed;
    try {
      parsed = Pem.certificates(pem);
    } catch (IllegalArgumentException e) {
      throw new CaConfigurationException(secret + ": " + name + " " + e.getMessage(), e);
    }
    if (parsed.isEmpty() && !pem.isBlank()) {
      throw new CaConfigurationException(
          secret + ": " + name + " holds no PEM CERTIFICATE block (expected: PEM certificates)");
    }
    List<CaChainValidator.Located> located = new ArrayList<>();
    for (int i = 0; i < parsed.size(); i++) {
      String source = name.equals(CA_CERT) ? name : name + "[" + i + "]";
      located.add(new CaChainValidator.Located(source, parsed.get(i)));
    }
    return located;
  }

  private static String required(String secret, Map<String, String> data, String name)
      throws CaConfigurationException {
    String value = data.get(name);
    if (value == null) {
      throw new CaConfigurationException(secret + ": missing key " + name);
    }
    if (value.isBlank()) {
      throw new CaConfigurationException(secret + ": " + name + " is empty");
    }
    return value;
  }
}
