package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bosun.ca.CaConfigurationException;
import dev.bosun.ca.IstioCaSecrets;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.Pem;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SigningCa;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where the mesh CA comes from: cacerts, else istio-ca-secret, else a new root stored there. */
@EnableKubernetesMockClient(crud = true)
class MeshCaLoaderTest {
  KubernetesClient client;
  private final Clock clock = Clock.systemUTC();

  private SigningCa load() throws CaConfigurationException {
    return new MeshCaLoader(client, "istio-system", clock)
        .load("cluster.local", KeyAlgorithm.ecdsaP256());
  }

  @Test
  void firstStart_generatesARootAndStoresIt_laterStartsAndReplicasReuseIt() throws Exception {
    SigningCa first = load();

    Secret stored = client.secrets().inNamespace("istio-system").withName("istio-ca-secret").get();
    assertThat(stored).isNotNull();
    assertThat(stored.getType()).isEqualTo("istio.io/ca-root");
    assertThat(stored.getData()).containsKeys("ca-cert.pem", "ca-key.pem", "root-cert.pem");
    SigningCa second = load();
    assertThat(second.rootPem()).isEqualTo(first.rootPem());
    assertThat(second.signingCertificate()).isEqualTo(first.signingCertificate());
  }

  @Test
  void pluggedInCa_winsOverTheSelfSignedOne() throws Exception {
    load();
    SigningCa corporate = SelfSignedRoot.generate("corp.example", KeyAlgorithm.ecdsaP256(), clock);
    String root = Pem.encode(corporate.signingCertificate());
    plugIn(
        Map.of(
            "ca-cert.pem", root,
            "ca-key.pem", Pem.encode(corporate.signingKey()),
            "cert-chain.pem", root,
            "root-cert.pem", root));

    assertThat(load().rootPem()).isEqualTo(corporate.rootPem());
  }

  @Test
  void brokenPluggedInCa_stopsStartupWithWhatIsWrong() {
    SigningCa one = SelfSignedRoot.generate("one", KeyAlgorithm.ecdsaP256(), clock);
    SigningCa other = SelfSignedRoot.generate("other", KeyAlgorithm.ecdsaP256(), clock);
    String root = Pem.encode(one.signingCertificate());
    plugIn(
        Map.of(
            "ca-cert.pem",
            root,
            "ca-key.pem",
            Pem.encode(other.signingKey()),
            "cert-chain.pem",
            "",
            "root-cert.pem",
            root));

    assertThatThrownBy(this::load)
        .isInstanceOf(CaConfigurationException.class)
        .hasMessageStartingWith("cacerts: ")
        .hasMessageContaining("ca-key.pem");
  }

  private void plugIn(Map<String, String> data) {
    client
        .secrets()
        .inNamespace("istio-system")
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withNamespace("istio-system")
                .withName(IstioCaSecrets.PLUG_IN_SECRET)
                .endMetadata()
                .withStringData(data)
                .build())
        .create();
  }
}
