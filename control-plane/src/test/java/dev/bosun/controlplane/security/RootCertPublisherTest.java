package dev.bosun.controlplane.security;

import static dev.bosun.controlplane.security.RootCertPublisher.CONFIG_MAP_NAME;
import static dev.bosun.controlplane.security.RootCertPublisher.ROOT_CERT_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The publisher against fabric8's mock API server in CRUD mode, without an election. */
@EnableKubernetesMockClient(crud = true)
class RootCertPublisherTest {
  static final String ROOT_A = pem("root-a");
  static final String ROOT_B = pem("root-b");

  KubernetesMockServer server;
  KubernetesClient client;

  private final AtomicReference<String> root = new AtomicReference<>(ROOT_A);
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private RootCertPublisher publisher;

  @BeforeEach
  void setUp() {
    publisher =
        new RootCertPublisher(
            client, root::get, meters, Duration.ofMillis(10), Duration.ofMillis(100));
  }

  @AfterEach
  void tearDown() {
    publisher.close();
  }

  static String pem(String body) {
    return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n";
  }

  private void namespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  private ConfigMap configMap(String namespace) {
    return client.configMaps().inNamespace(namespace).withName(CONFIG_MAP_NAME).get();
  }

  private String published(String namespace) {
    ConfigMap configMap = configMap(namespace);
    return configMap == null || configMap.getData() == null
        ? null
        : configMap.getData().get(ROOT_CERT_KEY);
  }

  private void awaitPublished(String namespace, String pem) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(published(namespace)).as(namespace).isEqualTo(pem));
  }

  private double writes(String operation) {
    return meters.get("bosun_root_cert_writes").tag("operation", operation).counter().count();
  }

  @Test
  void start_publishesIntoEveryExistingNamespace_labelledLikeIstiod() {
    namespace("default");
    namespace("shop");
    namespace("kube-system");

    publisher.start();

    for (String namespace : new String[] {"default", "shop", "kube-system"}) {
      awaitPublished(namespace, ROOT_A);
      assertThat(configMap(namespace).getMetadata().getLabels())
          .containsEntry("istio.io/config", "true");
    }
    assertThat(publisher.publishing()).isTrue();
    assertThat(meters.get("bosun_root_cert_publishing").gauge().value()).isEqualTo(1.0);
  }

  @Test
  void namespaceCreatedLater_getsTheConfigMap() {
    namespace("default");
    publisher.start();
    awaitPublished("default", ROOT_A);

    namespace("late");

    awaitPublished("late", ROOT_A);
  }

  @Test
  void deletedConfigMap_isRecreated() {
    namespace("shop");
    publisher.start();
    awaitPublished("shop", ROOT_A);

    client.configMaps().inNamespace("shop").withName(CONFIG_MAP_NAME).delete();

    awaitPublished("shop", ROOT_A);
    assertThat(writes("create")).isEqualTo(2);
  }

  @Test
  void editedConfigMap_isRestored_keepingOtherKeys() {
    namespace("shop");
    publisher.start();
    awaitPublished("shop", ROOT_A);

    client
        .configMaps()
        .inNamespace("shop")
        .withName(CONFIG_MAP_NAME)
        .edit(
            cm ->
                new ConfigMapBuilder(cm)
                    .addToData(ROOT_CERT_KEY, pem("forged"))
                    .addToData("extra.pem", "kept")
                    .build());

    awaitPublished("shop", ROOT_A);
    assertThat(configMap("shop").getData()).containsEntry("extra.pem", "kept");
    assertThat(writes("update")).isEqualTo(1);
  }

  @Test
  void upToDateConfigMap_isLeftAlone() {
    namespace("shop");
    namespace("other");
    client
        .configMaps()
        .inNamespace("shop")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(CONFIG_MAP_NAME)
                .endMetadata()
                .withData(Map.of(ROOT_CERT_KEY, ROOT_A))
                .build())
        .create();
    String version = configMap("shop").getMetadata().getResourceVersion();

    publisher.start();
    awaitPublished("other", ROOT_A);
    namespace("last");
    awaitPublished("last", ROOT_A);

    assertThat(configMap("shop").getMetadata().getResourceVersion()).isEqualTo(version);
    assertThat(writes("update")).isZero();
  }

  @Test
  void rootChange_isRepublishedEverywhere() {
    namespace("default");
    namespace("shop");
    publisher.start();
    awaitPublished("default", ROOT_A);
    awaitPublished("shop", ROOT_A);

    root.set(ROOT_B);
    publisher.republish();

    awaitPublished("default", ROOT_B);
    awaitPublished("shop", ROOT_B);
  }

  @Test
  void systemAndTerminatingNamespaces_getNothing() {
    namespace("first");
    publisher.start();
    awaitPublished("first", ROOT_A);

    // Events are reconciled in order on one thread: once "last" has its ConfigMap, the
    // namespaces created before it were looked at.
    namespace("kube-public");
    namespace("kube-node-lease");
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("leaving")
                .endMetadata()
                .withNewStatus()
                .withPhase("Terminating")
                .endStatus()
                .build())
        .create();
    namespace("last");
    awaitPublished("last", ROOT_A);

    assertThat(configMap("kube-public")).isNull();
    assertThat(configMap("kube-node-lease")).isNull();
    assertThat(configMap("leaving")).isNull();
  }

  @Test
  void apiErrors_areCountedAndRetried() {
    namespace("flaky");
    // fabric8's client retries 5xx answers itself; a 403 (RBAC not yet bound, say) reaches us.
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/flaky/configmaps")
        .andReturn(403, "{\"kind\":\"Status\",\"code\":403,\"message\":\"forbidden\"}")
        .times(3);

    publisher.start();

    awaitPublished("flaky", ROOT_A);
    assertThat(meters.get("bosun_root_cert_errors").counter().count()).isEqualTo(3);
  }

  @Test
  void stop_thenStart_resumesPublishing() {
    namespace("shop");
    publisher.start();
    awaitPublished("shop", ROOT_A);

    publisher.stop();
    assertThat(publisher.publishing()).isFalse();
    client.configMaps().inNamespace("shop").withName(CONFIG_MAP_NAME).delete();
    namespace("added-while-stopped");
    publisher.start();

    awaitPublished("shop", ROOT_A);
    awaitPublished("added-while-stopped", ROOT_A);
  }

  @Test
  void wanted_skipsIstiodsSystemNamespacesAndDeletedOnes() {
    assertThat(RootCertPublisher.wanted(ns("kube-system", null))).isTrue();
    assertThat(RootCertPublisher.wanted(ns("shop", "Active"))).isTrue();
    assertThat(RootCertPublisher.wanted(ns("kube-public", null))).isFalse();
    assertThat(RootCertPublisher.wanted(ns("kube-node-lease", null))).isFalse();
    assertThat(RootCertPublisher.wanted(ns("local-path-storage", null))).isFalse();
    assertThat(RootCertPublisher.wanted(ns("shop", "Terminating"))).isFalse();
    Namespace deleting = ns("shop", null);
    deleting.getMetadata().setDeletionTimestamp("2024-01-01T00:00:00Z");
    assertThat(RootCertPublisher.wanted(deleting)).isFalse();
  }

  private static Namespace ns(String name, String phase) {
    return new NamespaceBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }
}
