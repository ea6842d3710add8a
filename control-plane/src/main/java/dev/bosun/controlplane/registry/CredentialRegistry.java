package dev.bosun.controlplane.registry;

import dev.bosun.controlplane.model.TlsCredential;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TLS credentials gateways may be sent, from Kubernetes Secrets by {@code namespace/name}: only
 * Secrets that hold a key pair or a CA bundle under istiod's keys are kept, and only those keys.
 * Each Secret is replaced whole, so a reader sees it before or after a change.
 */
public final class CredentialRegistry {
  private final Map<String, TlsCredential> credentials = new ConcurrentHashMap<>();

  /** Records {@code secret}; returns whether what gateways may be sent changed. */
  public boolean upsert(Secret secret) {
    String key = key(secret.getMetadata().getNamespace(), secret.getMetadata().getName());
    Optional<TlsCredential> read = read(secret);
    TlsCredential previous =
        read.isPresent() ? credentials.put(key, read.get()) : credentials.remove(key);
    return !java.util.Objects.equals(previous, read.orElse(null));
  }

  /** Forgets a deleted Secret; returns whether it was a credential. */
  public boolean delete(String namespace, String name) {
    return credentials.remove(key(namespace, name)) != null;
  }

  /** Every credential, by {@code namespace/name}. */
  public Map<String, TlsCredential> all() {
    return Map.copyOf(credentials);
  }

  public static String key(String namespace, String name) {
    return (namespace == null ? "default" : namespace) + "/" + name;
  }

  /** The TLS material of a Secret, if it has any under istiod's keys. */
  static Optional<TlsCredential> read(Secret secret) {
    String cert = value(secret, "cert");
    String key = value(secret, "key");
    if (cert.isEmpty() || key.isEmpty()) {
      cert = value(secret, "tls.crt");
      key = value(secret, "tls.key");
    }
    String ca = value(secret, "cacert");
    if (ca.isEmpty()) {
      ca = value(secret, "ca.crt");
    }
    TlsCredential credential =
        new TlsCredential(
            secret.getMetadata().getNamespace() == null
                ? "default"
                : secret.getMetadata().getNamespace(),
            secret.getMetadata().getName(),
            cert.isEmpty() || key.isEmpty() ? "" : cert,
            cert.isEmpty() || key.isEmpty() ? "" : key,
            ca);
    return credential.hasKeyPair() || credential.hasCaCertificate()
        ? Optional.of(credential)
        : Optional.empty();
  }

  /** A key of {@code data} (base64), else of {@code stringData} (as written in local files). */
  private static String value(Secret secret, String name) {
    if (secret.getData() != null && secret.getData().get(name) != null) {
      try {
        return new String(
            Base64.getMimeDecoder().decode(secret.getData().get(name)), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return "";
      }
    }
    if (secret.getStringData() != null && secret.getStringData().get(name) != null) {
      return secret.getStringData().get(name);
    }
    return "";
  }
}
