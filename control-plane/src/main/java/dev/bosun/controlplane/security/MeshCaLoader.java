package dev.bosun.controlplane.security;

import dev.bosun.ca.CaConfigurationException;
import dev.bosun.ca.IstioCaSecrets;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SigningCa;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the mesh CA the way istiod does, in Bosun's namespace: a plug-in CA from Secret {@code
 * cacerts} if it exists (checked, and fatal if broken); else the self-signed root in Secret {@code
 * istio-ca-secret}; else a new self-signed root, stored there so that every replica and every
 * restart signs with the same key. Two replicas racing to create it both end up with the winner's.
 */
public final class MeshCaLoader {
  private static final Logger log = LoggerFactory.getLogger(MeshCaLoader.class);

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;

  public MeshCaLoader(KubernetesClient client, String namespace, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
  }

  /**
   * The CA to sign with.
   *
   * @throws CaConfigurationException when a stored CA is broken: the message names the Secret, the
   *     key and what is wrong, and Bosun must not start with it
   */
  public SigningCa load(String organization, KeyAlgorithm algorithm)
      throws CaConfigurationException {
    Secret plugIn = secret(IstioCaSecrets.PLUG_IN_SECRET);
    if (plugIn != null) {
      SigningCa ca = IstioCaSecrets.loadPlugIn(decode(plugIn), clock);
      log.info(
          "CA: plug-in certificate {} from Secret {}/{}",
          ca.signingCertificate().getSubjectX500Principal().getName(),
          namespace,
          IstioCaSecrets.PLUG_IN_SECRET);
      return ca;
    }
    Secret stored = secret(IstioCaSecrets.SELF_SIGNED_SECRET);
    if (stored != null) {
      log.info(
          "CA: self-signed root from Secret {}/{}", namespace, IstioCaSecrets.SELF_SIGNED_SECRET);
      return IstioCaSecrets.loadSelfSigned(decode(stored), clock);
    }
    SigningCa generated = SelfSignedRoot.generate(organization, algorithm, clock);
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(IstioCaSecrets.SELF_SIGNED_SECRET)
            .endMetadata()
            .withType("istio.io/ca-root")
            .withData(encode(IstioCaSecrets.selfSignedData(generated)))
            .build();
    try {
      client.secrets().inNamespace(namespace).resource(secret).create();
      log.info(
          "CA: generated a self-signed root ({}) and stored it in Secret {}/{}",
          algorithm,
          namespace,
          IstioCaSecrets.SELF_SIGNED_SECRET);
      return generated;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      // Another replica stored its root first: sign with that one.
      log.info("CA: another replica created {} first; using it", IstioCaSecrets.SELF_SIGNED_SECRET);
      Secret theirs = secret(IstioCaSecrets.SELF_SIGNED_SECRET);
      if (theirs == null) {
        throw new CaConfigurationException(
            IstioCaSecrets.SELF_SIGNED_SECRET
                + ": created by another replica and deleted again while this one started;"
                + " restart to generate or read it");
      }
      return IstioCaSecrets.loadSelfSigned(decode(theirs), clock);
    }
  }

  /**
   * The CA the Secrets hold now, for a running Bosun: {@code cacerts} if present, else {@code
   * istio-ca-secret}; empty when neither exists. Never generates a root: a deleted Secret must not
   * turn into a new root nobody trusts.
   *
   * @throws CaConfigurationException when the Secret present is broken
   */
  public java.util.Optional<SigningCa> reload() throws CaConfigurationException {
    Secret plugIn = secret(IstioCaSecrets.PLUG_IN_SECRET);
    if (plugIn != null) {
      return java.util.Optional.of(IstioCaSecrets.loadPlugIn(decode(plugIn), clock));
    }
    Secret stored = secret(IstioCaSecrets.SELF_SIGNED_SECRET);
    if (stored != null) {
      return java.util.Optional.of(IstioCaSecrets.loadSelfSigned(decode(stored), clock));
    }
    return java.util.Optional.empty();
  }

  /** Whether an operator's CA ({@code cacerts}) is in place, whose rotation is theirs. */
  public boolean plugInPresent() {
    return secret(IstioCaSecrets.PLUG_IN_SECRET) != null;
  }

  /** Stores a renewed self-signed root in {@code istio-ca-secret}, keeping its other data. */
  public void storeSelfSigned(SigningCa renewed) {
    client
        .secrets()
        .inNamespace(namespace)
        .withName(IstioCaSecrets.SELF_SIGNED_SECRET)
        .edit(
            secret -> {
              Map<String, String> data = new LinkedHashMap<>(decode(secret));
              data.putAll(IstioCaSecrets.selfSignedData(renewed));
              secret.setStringData(null);
              secret.setData(encode(data));
              return secret;
            });
  }

  private Secret secret(String name) {
    return client.secrets().inNamespace(namespace).withName(name).get();
  }

  private static Map<String, String> decode(Secret secret) {
    Map<String, String> data = new LinkedHashMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (key, value) ->
                  data.put(
                      key,
                      value == null
                          ? ""
                          : new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      data.putAll(secret.getStringData());
    }
    return data;
  }

  private static Map<String, String> encode(Map<String, String> data) {
    Map<String, String> encoded = new LinkedHashMap<>();
    data.forEach(
        (key, value) ->
            encoded.put(
                key, Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))));
    return encoded;
  }
}
