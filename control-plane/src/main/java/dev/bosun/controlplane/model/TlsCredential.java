package dev.bosun.controlplane.model;

import static java.util.Objects.requireNonNull;

/**
 * TLS material from one Kubernetes Secret, as istiod reads it for gateways: a certificate chain and
 * private key ({@code cert}/{@code key}, else {@code tls.crt}/{@code tls.key}) and a CA bundle
 * ({@code cacert}, else {@code ca.crt}); either part may be absent. Its text never names the key.
 */
public record TlsCredential(
    String namespace,
    String name,
    String certificateChain,
    String privateKey,
    String caCertificate) {
  public TlsCredential {
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    certificateChain = certificateChain == null ? "" : certificateChain;
    privateKey = privateKey == null ? "" : privateKey;
    caCertificate = caCertificate == null ? "" : caCertificate;
  }

  /** Whether it holds a certificate chain and its key. */
  public boolean hasKeyPair() {
    return !certificateChain.isEmpty() && !privateKey.isEmpty();
  }

  public boolean hasCaCertificate() {
    return !caCertificate.isEmpty();
  }

  @Override
  public String toString() {
    return "TlsCredential["
        + namespace
        + "/"
        + name
        + (hasKeyPair() ? ", key pair" : "")
        + (hasCaCertificate() ? ", CA" : "")
        + "]";
  }
}
