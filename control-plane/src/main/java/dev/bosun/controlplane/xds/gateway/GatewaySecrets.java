package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.TlsCredential;
import dev.bosun.controlplane.registry.CredentialRegistry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.scope.Warnings;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.fabric8.istio.api.api.networking.v1alpha3.ClientTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Gateway SDS, served on the ADS stream as istiod serves it: {@code kubernetes://<name>} (or {@code
 * kubernetes://<namespace>/<name>}) is the certificate chain and key of that Secret, {@code
 * kubernetes://<name>-cacert} the CA bundle of Secret {@code <name>-cacert}, else of {@code
 * <name>}. Only a proxy whose identity its stream verified gets anything, and only Secrets of its
 * own namespace. A Secret that is missing, holds no certificate, or may not be read is left out
 * with a warning; the others are sent. Key material never appears in a warning.
 */
public final class GatewaySecrets implements TypeGenerator {
  @Override
  public String typeUrl() {
    return XdsTypes.SECRET;
  }

  /**
   * Secrets read only Secrets: a change concerns the gateways whose servers name the Secret (as
   * their certificate or its CA), or whose DestinationRules originate TLS with it.
   */
  @Override
  public boolean concerns(MeshChange change, ProxyView proxy) {
    if (change.everything()) {
      return true;
    }
    if (change.secrets().isEmpty()) {
      return false;
    }
    Set<String> used = used(change.snapshot(), proxy);
    return change.secrets().stream().anyMatch(used::contains);
  }

  /** The Secrets the proxy's Gateway servers and DestinationRules name: all it may be sent. */
  private static Set<String> used(MeshSnapshot snapshot, ProxyView proxy) {
    Set<String> used =
        new java.util.HashSet<>(GatewayServers.of(snapshot, proxy).credentialSecrets(proxy));
    used.addAll(originationSecrets(snapshot, proxy.namespace()));
    return used;
  }

  /**
   * The Secrets ({@code namespace/name}, with their {@code -cacert}) DestinationRules name as
   * {@code tls.credentialName} at any level, as a gateway in {@code namespace} reads them.
   */
  static Set<String> originationSecrets(MeshSnapshot snapshot, String namespace) {
    return snapshot.derived(
        List.of("gateway-origination-secrets", namespace),
        () -> {
          Set<String> secrets = new java.util.TreeSet<>();
          for (ConfigEntry entry : snapshot.config().list(IstioKind.DESTINATION_RULE)) {
            DestinationRule rule = entry.spec(DestinationRule.class);
            List<TrafficPolicy> policies = new java.util.ArrayList<>();
            policies.add(rule.getTrafficPolicy());
            if (rule.getSubsets() != null) {
              rule.getSubsets().forEach(subset -> policies.add(subset.getTrafficPolicy()));
            }
            for (TrafficPolicy policy : policies) {
              if (policy == null) {
                continue;
              }
              List<ClientTLSSettings> tls = new java.util.ArrayList<>();
              tls.add(policy.getTls());
              if (policy.getPortLevelSettings() != null) {
                policy.getPortLevelSettings().forEach(port -> tls.add(port.getTls()));
              }
              for (ClientTLSSettings settings : tls) {
                if (settings != null
                    && settings.getCredentialName() != null
                    && !settings.getCredentialName().isBlank()) {
                  String key = EnvoyNames.credentialSecret(settings.getCredentialName(), namespace);
                  secrets.add(key);
                  secrets.add(key + EnvoyNames.CA_SUFFIX);
                }
              }
            }
          }
          return Set.copyOf(secrets);
        });
  }

  @Override
  public Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names) {
    Warnings warnings = new Warnings();
    Map<String, Message> secrets = new TreeMap<>();
    Set<String> used = used(snapshot, proxy);
    for (String name : names) {
      secret(snapshot, proxy, used, name, warnings).ifPresent(secret -> secrets.put(name, secret));
    }
    return Generated.of(secrets, warnings);
  }

  private static Optional<Secret> secret(
      MeshSnapshot snapshot,
      ProxyView proxy,
      Set<String> used,
      String resource,
      Warnings warnings) {
    if (!resource.startsWith(EnvoyNames.KUBERNETES_SECRET)) {
      warnings.add(
          "SDS resource {} asked for by {}: only kubernetes:// Secrets are served by the control"
              + " plane (the gateway's agent serves its own certificates)",
          resource,
          proxy.id());
      return Optional.empty();
    }
    String path = resource.substring(EnvoyNames.KUBERNETES_SECRET.length());
    int slash = path.indexOf('/');
    String namespace = slash < 0 ? proxy.namespace() : path.substring(0, slash);
    String name = slash < 0 ? path : path.substring(slash + 1);
    if (!proxy.identityVerified()) {
      warnings.add(
          "SDS resource {} not sent to {}: its stream has no verified identity (connect over"
              + " the secure port)",
          resource,
          proxy.id());
      return Optional.empty();
    }
    if (!namespace.equals(proxy.namespace())) {
      warnings.add(
          "SDS resource {} not sent to {}: a gateway may read only Secrets of its own namespace"
              + " ({})",
          resource,
          proxy.id(),
          proxy.namespace());
      return Optional.empty();
    }
    if (!used.contains(CredentialRegistry.key(namespace, name))) {
      // Any workload may present a router node; it gets only the Secrets its gateway uses.
      warnings.add(
          "SDS resource {} not sent to {}: no Gateway server selecting it nor DestinationRule"
              + " names Secret {}/{}",
          resource,
          proxy.id(),
          namespace,
          name);
      return Optional.empty();
    }
    Map<String, TlsCredential> credentials = snapshot.credentials();
    if (name.endsWith(EnvoyNames.CA_SUFFIX)) {
      TlsCredential own = credentials.get(CredentialRegistry.key(namespace, name));
      String base = name.substring(0, name.length() - EnvoyNames.CA_SUFFIX.length());
      TlsCredential ca =
          own != null && own.hasCaCertificate()
              ? own
              : credentials.get(CredentialRegistry.key(namespace, base));
      if (ca == null || !ca.hasCaCertificate()) {
        warnings.add(
            "SDS resource {}: neither Secret {}/{} nor {}/{} holds a CA certificate (cacert or"
                + " ca.crt)",
            resource,
            namespace,
            name,
            namespace,
            base);
        return Optional.empty();
      }
      return Optional.of(
          Secret.newBuilder()
              .setName(resource)
              .setValidationContext(
                  CertificateValidationContext.newBuilder()
                      .setTrustedCa(inline(ca.caCertificate())))
              .build());
    }
    TlsCredential credential = credentials.get(CredentialRegistry.key(namespace, name));
    if (credential == null || !credential.hasKeyPair()) {
      warnings.add(
          "SDS resource {}: Secret {}/{} {}",
          resource,
          namespace,
          name,
          credential == null
              ? "was not found"
              : "holds no certificate and key (tls.crt and tls.key, or cert and key)");
      return Optional.empty();
    }
    return Optional.of(
        Secret.newBuilder()
            .setName(resource)
            .setTlsCertificate(
                TlsCertificate.newBuilder()
                    .setCertificateChain(inline(credential.certificateChain()))
                    .setPrivateKey(inline(credential.privateKey())))
            .build());
  }

  private static DataSource inline(String pem) {
    return DataSource.newBuilder()
        .setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.UTF_8))
        .build();
  }
}
