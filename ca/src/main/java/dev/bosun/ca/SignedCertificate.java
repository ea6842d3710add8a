package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A workload certificate and the chain to hand back with it.
 *
 * @param leaf the issued certificate
 * @param certChainPem one PEM certificate per element, the leaf first and the root last: the {@code
 *     cert_chain} of Istio's {@code IstioCertificateResponse}
 */
public record SignedCertificate(X509Certificate leaf, List<String> certChainPem) {
  public SignedCertificate {
    requireNonNull(leaf, "leaf");
    certChainPem = List.copyOf(certChainPem);
  }

  /** The issued certificate alone, as PEM. */
  public String leafPem() {
    return certChainPem.get(0);
  }
}
