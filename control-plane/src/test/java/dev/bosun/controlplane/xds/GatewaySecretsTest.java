package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.gateway.GatewaySecrets;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Gateway SDS from Kubernetes Secrets: the key pair and CA bundle under istiod's keys, only for a
 * proxy whose stream verified its identity and only from its own namespace; what cannot be sent is
 * left out with a warning that never carries the key.
 */
class GatewaySecretsTest {
  private static final String CERT =
      "-----BEGIN CERTIFICATE-----\ncert-of-%s\n-----END CERTIFICATE-----\n";
  private static final String KEY =
      "-----BEGIN PRIVATE KEY-----\nkey-of-%s\n-----END PRIVATE KEY-----\n";

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String tlsSecret(String namespace, String name, boolean withCa) {
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: %s, namespace: %s}
        type: kubernetes.io/tls
        data:
          tls.crt: %s
          tls.key: %s
        %s
        ---
        """
        .formatted(
            name,
            namespace,
            b64(CERT.formatted(name)),
            b64(KEY.formatted(name)),
            withCa ? "  ca.crt: " + b64(CERT.formatted(name + "-ca")) : "");
  }

  private static final MeshSnapshot SNAPSHOT =
      TestSnapshots.of(
          "secrets.yaml",
          tlsSecret("istio-system", "bookinfo-cert", false)
              + tlsSecret("istio-system", "shop-cert", true)
              + """
              # A generic Secret with istiod's other keys, and a separate CA Secret.
              apiVersion: v1
              kind: Secret
              metadata: {name: partner, namespace: istio-system}
              stringData:
                cert: "-----BEGIN CERTIFICATE-----\\npartner\\n-----END CERTIFICATE-----\\n"
                key: "-----BEGIN PRIVATE KEY-----\\npartner-key\\n-----END PRIVATE KEY-----\\n"
              ---
              apiVersion: v1
              kind: Secret
              metadata: {name: partner-cacert, namespace: istio-system}
              stringData:
                cacert: "-----BEGIN CERTIFICATE-----\\npartner-ca\\n-----END CERTIFICATE-----\\n"
              ---
              apiVersion: v1
              kind: Secret
              metadata: {name: not-tls, namespace: istio-system}
              stringData: {password: hunter2}
              ---
              """
              + tlsSecret("shop", "shop-cert", true)
              + tlsSecret("istio-system", "unreferenced", true)
              + """
              # What the gateway's servers name (a Gateway without a selector selects every one).
              apiVersion: networking.istio.io/v1
              kind: Gateway
              metadata: {name: edge, namespace: istio-system}
              spec:
                servers:
                - port: {number: 443, name: https-bookinfo, protocol: HTTPS}
                  hosts: [bookinfo.example.com]
                  tls: {mode: SIMPLE, credentialName: bookinfo-cert}
                - port: {number: 443, name: https-shop, protocol: HTTPS}
                  hosts: [shop.example.com]
                  tls: {mode: MUTUAL, credentialName: shop-cert}
                - port: {number: 443, name: https-partner, protocol: HTTPS}
                  hosts: [partner.example.com]
                  tls: {mode: MUTUAL, credentialName: partner}
                - port: {number: 443, name: https-absent, protocol: HTTPS}
                  hosts: [absent.example.com]
                  tls: {mode: MUTUAL, credentialName: absent}
                - port: {number: 443, name: https-not-tls, protocol: HTTPS}
                  hosts: [not-tls.example.com]
                  tls: {mode: SIMPLE, credentialName: not-tls}
                - port: {number: 443, name: https-other, protocol: HTTPS}
                  hosts: [other.example.com]
                  tls: {mode: SIMPLE, credentialName: kubernetes://shop/shop-cert}
              """);

  private static ProxyView gateway(boolean verified) {
    ProxyView view =
        ProxyView.of(
            Node.newBuilder()
                .setId("router~10.44.0.2~ingress-1.istio-system~istio-system.svc.cluster.local")
                .setMetadata(
                    Struct.newBuilder()
                        .putFields(
                            "NAMESPACE", Value.newBuilder().setStringValue("istio-system").build()))
                .build());
    return verified ? view.verified() : view;
  }

  private final GatewaySecrets secrets = new GatewaySecrets();

  @Test
  void aVerifiedGateway_getsTheKeyPairAndTheCa_ofSecretsInItsNamespace() {
    Generated generated =
        secrets.generate(
            SNAPSHOT,
            gateway(true),
            Set.of(
                "kubernetes://bookinfo-cert",
                "kubernetes://shop-cert-cacert",
                "kubernetes://istio-system/partner",
                "kubernetes://partner-cacert"));
    assertThat(generated.resources()).hasSize(4);
    Secret bookinfo = (Secret) generated.resources().get("kubernetes://bookinfo-cert");
    assertThat(bookinfo.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8())
        .contains("cert-of-bookinfo-cert");
    assertThat(bookinfo.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8())
        .contains("key-of-bookinfo-cert");
    Secret shopCa = (Secret) generated.resources().get("kubernetes://shop-cert-cacert");
    assertThat(shopCa.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
        .as("the CA of a Secret without its own -cacert Secret is its ca.crt")
        .contains("cert-of-shop-cert-ca");
    Secret partner = (Secret) generated.resources().get("kubernetes://istio-system/partner");
    assertThat(partner.getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8())
        .contains("partner-key");
    Secret partnerCa = (Secret) generated.resources().get("kubernetes://partner-cacert");
    assertThat(partnerCa.getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
        .as("a Secret named <name>-cacert holds the CA of <name>")
        .contains("partner-ca");
    EnvoyValidator validator = new EnvoyValidator();
    for (Message secret : generated.resources().values()) {
      assertThat(validator.check(secret)).isEmpty();
    }
    assertThat(generated.warnings()).isEmpty();
  }

  @Test
  void anotherNamespacesSecret_anUnverifiedStream_andMissingSecrets_areLeftOutWithAWarning() {
    Generated other =
        secrets.generate(SNAPSHOT, gateway(true), Set.of("kubernetes://shop/shop-cert"));
    assertThat(other.resources()).isEmpty();
    assertThat(other.warnings())
        .singleElement()
        .asString()
        .contains(
            "kubernetes://shop/shop-cert", "only Secrets of its own namespace (istio-system)");

    Generated unreferenced =
        secrets.generate(SNAPSHOT, gateway(true), Set.of("kubernetes://unreferenced"));
    assertThat(unreferenced.resources())
        .as("a Secret of its namespace that none of its servers names")
        .isEmpty();
    assertThat(unreferenced.warnings())
        .singleElement()
        .asString()
        .contains("no Gateway server selecting it nor DestinationRule names Secret");

    Generated unverified =
        secrets.generate(SNAPSHOT, gateway(false), Set.of("kubernetes://bookinfo-cert"));
    assertThat(unverified.resources()).isEmpty();
    assertThat(unverified.warnings()).singleElement().asString().contains("no verified identity");

    Generated missing =
        secrets.generate(
            SNAPSHOT,
            gateway(true),
            Set.of(
                "kubernetes://absent",
                "kubernetes://not-tls",
                "kubernetes://bookinfo-cert-cacert",
                "kubernetes://bookinfo-cert"));
    assertThat(missing.resources()).containsOnlyKeys("kubernetes://bookinfo-cert");
    assertThat(missing.warnings())
        .hasSize(3)
        .anySatisfy(w -> assertThat(w).contains("istio-system/absent was not found"))
        .anySatisfy(w -> assertThat(w).contains("istio-system/not-tls was not found"))
        .anySatisfy(w -> assertThat(w).contains("holds a CA certificate"));
    for (String warning :
        List.of(
                other.warnings(),
                unreferenced.warnings(),
                unverified.warnings(),
                missing.warnings())
            .stream()
            .flatMap(List::stream)
            .toList()) {
      assertThat(warning).doesNotContain("key-of", "PRIVATE KEY", "hunter2");
    }
  }
}
