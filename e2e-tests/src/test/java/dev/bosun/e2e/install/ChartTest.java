package dev.bosun.e2e.install;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.meshconfig.MeshConfigParser;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Helm chart rendered by Helm over a matrix of values: it lints strictly, every object is a
 * well-formed Kubernetes object of fabric8's typed model with no field the model does not know, and
 * the names, labels and ports are istiod's.
 */
class ChartTest {
  static Stream<Arguments> matrix() {
    return Stream.of(
        Arguments.of("defaults", Map.of()),
        Arguments.of("a revision", Map.of("revision", "canary")),
        Arguments.of("3 replicas", Map.of("replicaCount", 3)),
        Arguments.of("a custom meshConfig", CUSTOM_MESH_CONFIG),
        Arguments.of("validation off", Map.of("validation.enabled", false)),
        Arguments.of("injection off", Map.of("sidecarInjectorWebhook.enabled", false)),
        Arguments.of(
            "inject selectors",
            Map.of(
                "sidecarInjectorWebhook.neverInjectSelector[0].matchLabels.tier",
                "db",
                "sidecarInjectorWebhook.alwaysInjectSelector[0].matchExpressions[0].key",
                "track",
                "sidecarInjectorWebhook.alwaysInjectSelector[0].matchExpressions[0].operator",
                "Exists",
                "sidecarInjectorWebhook.injectedAnnotations.team",
                "shop")),
        Arguments.of(
            "webhooks off",
            Map.of("validation.enabled", false, "sidecarInjectorWebhook.enabled", false)),
        Arguments.of(
            "native sidecars, CNI, another hub",
            Map.of(
                "sidecarInjectorWebhook.nativeSidecars",
                true,
                "sidecarInjectorWebhook.cni",
                true,
                "global.hub",
                "registry.example.com/istio",
                "global.network",
                "net-1")),
        Arguments.of("autoscaled", Map.of("autoscale.enabled", true)),
        Arguments.of("an ingress gateway", Map.of("ingressGateway.enabled", true)),
        Arguments.of("one replica", Map.of("replicaCount", 1)),
        Arguments.of(
            "outside the cluster",
            Map.of(
                "validation.url",
                "https://203.0.113.7:15017/validate",
                "validation.failurePolicy",
                "Fail",
                "sidecarInjectorWebhook.url",
                "https://203.0.113.7:15017/inject")));
  }

  /** Every honoured field set, plus one Bosun keeps without acting on it. */
  static final Map<String, Object> CUSTOM_MESH_CONFIG =
      Map.ofEntries(
          Map.entry("meshConfig.rootNamespace", "mesh-root"),
          Map.entry("meshConfig.trustDomain", "corp.example"),
          Map.entry("meshConfig.outboundTrafficPolicy.mode", "REGISTRY_ONLY"),
          Map.entry("meshConfig.connectTimeout", "5s"),
          Map.entry("meshConfig.enableAutoMtls", false),
          Map.entry("meshConfig.defaultServiceExportTo[0]", "."),
          Map.entry("meshConfig.localityLbSetting.enabled", false),
          Map.entry("meshConfig.defaultConfig.holdApplicationUntilProxyStarts", true),
          Map.entry("meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE", "dns"),
          Map.entry("meshConfig.accessLogFile", "/dev/stdout"),
          Map.entry("meshConfig.enableTracing", true));

  @Test
  void lint_strict_passes() {
    LintResult lint = new Helm(Chart.DIR).lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("matrix")
  void template_everyObjectParsesIntoTheTypedModelWithNothingUnknown(
      String name, Map<String, Object> values) throws Exception {
    List<JsonNode> documents = Chart.documents(Chart.template("istio-system", values, true));
    assertThat(documents).isNotEmpty();
    for (JsonNode document : documents) {
      Object typed = Serialization.unmarshal(document.toString());
      assertThat(typed).as(document.toString()).isInstanceOf(HasMetadata.class);
      assertThat(typed.getClass().getSimpleName())
          .as("a typed object, not a generic one")
          .isNotEqualTo("GenericKubernetesResource");
      JsonNode back = IstioJson.json().readTree(Serialization.asJson(typed));
      assertThat(back)
          .as(
              "%s %s: every rendered field is one the model knows",
              document.path("kind").asText(), document.path("metadata").path("name").asText())
          .isEqualTo(IstioJson.json().readTree(document.toString()));
    }
  }

  @Test
  void template_defaults_namesLabelsAndPortsAreIstiods() throws Exception {
    List<JsonNode> documents = Chart.documents(Chart.template("istio-system", Map.of(), false));
    JsonNode service = Chart.find(documents, "Service", "istiod");
    assertThat(service.path("metadata").path("namespace").asText()).isEqualTo("istio-system");
    Map<String, String> ports = new LinkedHashMap<>();
    service
        .path("spec")
        .path("ports")
        .forEach(
            p ->
                ports.put(
                    p.path("name").asText(),
                    p.path("port").asText()
                        + "->"
                        + p.path("targetPort").asText(p.path("port").asText())));
    assertThat(ports)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "grpc-xds", "15010->15010",
                "https-dns", "15012->15012",
                "https-webhook", "443->15017",
                "http-monitoring", "15014->15014"));
    assertThat(service.path("spec").path("selector").toString())
        .isEqualTo("{\"app\":\"istiod\",\"istio\":\"pilot\"}");

    JsonNode deployment = Chart.find(documents, "Deployment", "istiod");
    assertThat(deployment.path("spec").path("replicas").asInt()).isEqualTo(2);
    JsonNode pod = deployment.path("spec").path("template");
    assertThat(pod.path("metadata").path("labels").path("app").asText()).isEqualTo("istiod");
    assertThat(pod.path("metadata").path("labels").path("istio").asText()).isEqualTo("pilot");
    assertThat(pod.path("metadata").path("labels").path("istio.io/rev").asText())
        .isEqualTo("default");
    JsonNode container = pod.path("spec").path("containers").get(0);
    assertThat(container.path("readinessProbe").path("httpGet").path("path").asText())
        .isEqualTo("/ready");
    assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean())
        .isTrue();
    assertThat(pod.path("spec").path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
    assertThat(pod.path("spec").path("serviceAccountName").asText()).isEqualTo("istiod");
    assertThat(pod.path("spec").path("affinity").path("podAntiAffinity").isMissingNode()).isFalse();

    Chart.find(documents, "PodDisruptionBudget", "istiod");
    Chart.find(documents, "ClusterRole", "istiod-clusterrole-istio-system");
    Chart.find(documents, "Role", "istiod");
    JsonNode validator =
        Chart.find(documents, "ValidatingWebhookConfiguration", "istiod-default-validator");
    JsonNode webhook = validator.path("webhooks").get(0);
    assertThat(webhook.path("name").asText()).isEqualTo("validation.istio.io");
    assertThat(webhook.path("failurePolicy").asText()).isEqualTo("Ignore");
    assertThat(webhook.path("clientConfig").path("service").path("name").asText())
        .isEqualTo("istiod");
    assertThat(webhook.path("clientConfig").path("service").path("path").asText())
        .isEqualTo("/validate");
    JsonNode revisioned =
        Chart.find(documents, "ValidatingWebhookConfiguration", "istio-validator-istio-system");
    assertThat(revisioned.path("webhooks").get(0).path("name").asText())
        .isEqualTo("rev.validation.istio.io");
    assertThat(
            documents.stream()
                .filter(d -> d.path("kind").asText().equals("HorizontalPodAutoscaler")))
        .isEmpty();
  }

  @Test
  void template_revision_suffixesNamesAndSelectsItsOwnPods() throws Exception {
    List<JsonNode> documents =
        Chart.documents(Chart.template("istio-system", Map.of("revision", "canary"), false));
    JsonNode service = Chart.find(documents, "Service", "istiod-canary");
    assertThat(service.path("spec").path("selector").toString())
        .isEqualTo("{\"app\":\"istiod\",\"istio.io/rev\":\"canary\"}");
    JsonNode deployment = Chart.find(documents, "Deployment", "istiod-canary");
    assertThat(
            deployment
                .path("spec")
                .path("template")
                .path("metadata")
                .path("labels")
                .path("istio")
                .asText())
        .isEqualTo("istiod");
    assertThat(Chart.containerArgs(documents, "istiod-canary")).contains("--revision=canary");
    Chart.find(documents, "ClusterRole", "istiod-clusterrole-canary-istio-system");
    Chart.find(documents, "ValidatingWebhookConfiguration", "istio-validator-canary-istio-system");
    assertThat(documents)
        .as("only the default revision validates unlabelled objects")
        .noneMatch(
            d -> d.path("metadata").path("name").asText().equals("istiod-default-validator"));
  }

  @Test
  void template_defaults_sidecarInjectorIsIstiods() throws Exception {
    List<JsonNode> documents = Chart.documents(Chart.template("istio-system", Map.of(), false));
    JsonNode injector =
        Chart.find(documents, "MutatingWebhookConfiguration", "istio-sidecar-injector");
    assertThat(injector.path("metadata").path("labels").path("istio.io/rev").asText())
        .isEqualTo("default");
    List<String> names = new java.util.ArrayList<>();
    injector.path("webhooks").forEach(w -> names.add(w.path("name").asText()));
    assertThat(names)
        .containsExactly(
            "rev.namespace.sidecar-injector.istio.io",
            "rev.object.sidecar-injector.istio.io",
            "namespace.sidecar-injector.istio.io",
            "object.sidecar-injector.istio.io");
    for (JsonNode webhook : injector.path("webhooks")) {
      assertThat(webhook.path("failurePolicy").asText()).isEqualTo("Fail");
      assertThat(webhook.path("sideEffects").asText()).isEqualTo("None");
      assertThat(webhook.path("reinvocationPolicy").asText()).isEqualTo("Never");
      assertThat(webhook.path("clientConfig").path("service").path("name").asText())
          .isEqualTo("istiod");
      assertThat(webhook.path("clientConfig").path("service").path("path").asText())
          .isEqualTo("/inject");
      assertThat(webhook.path("clientConfig").path("service").path("port").asInt()).isEqualTo(443);
      assertThat(webhook.path("clientConfig").has("caBundle")).isFalse();
    }
    assertThat(injector.path("webhooks").get(2).path("namespaceSelector").toString())
        .isEqualTo(
            "{\"matchExpressions\":[{\"key\":\"istio-injection\",\"operator\":\"In\",\"values\":[\"enabled\"]}]}");
    assertThat(Chart.containerArgs(documents, "istiod"))
        .contains("--proxy-hub=docker.io/istio", "--proxy-tag=1.28.0");
  }

  @Test
  void template_revisionOrInjectionOff_injectorFollows() throws Exception {
    List<JsonNode> canary =
        Chart.documents(Chart.template("istio-system", Map.of("revision", "canary"), false));
    JsonNode injector =
        Chart.find(canary, "MutatingWebhookConfiguration", "istio-sidecar-injector-canary");
    assertThat(injector.path("webhooks")).hasSize(2);
    assertThat(
            injector
                .path("webhooks")
                .get(0)
                .path("clientConfig")
                .path("service")
                .path("name")
                .asText())
        .isEqualTo("istiod-canary");
    List<JsonNode> off =
        Chart.documents(
            Chart.template("istio-system", Map.of("sidecarInjectorWebhook.enabled", false), false));
    assertThat(off).noneMatch(d -> d.path("kind").asText().equals("MutatingWebhookConfiguration"));
    assertThat(Chart.containerArgs(off, "istiod")).contains("--no-injection");
  }

  @Test
  void template_defaults_meshConfigMapIsIstiosAndParsesToIstiosDefaultsForTheRelease()
      throws Exception {
    List<JsonNode> documents = Chart.documents(Chart.template("mesh-ns", Map.of(), false));
    JsonNode configMap = Chart.find(documents, "ConfigMap", "istio");
    assertThat(configMap.path("metadata").path("namespace").asText()).isEqualTo("mesh-ns");
    assertThat(configMap.path("data").path("meshNetworks").asText()).isEqualTo("networks: {}");
    MeshConfigParser.Result result =
        MeshConfigParser.parse(configMap.path("data").path("mesh").asText());
    assertThat(result.warnings()).as("the chart renders only fields Bosun honours").isEmpty();
    MeshConfig mesh = result.config();
    assertThat(mesh.rootNamespace()).isEqualTo("mesh-ns");
    assertThat(mesh.trustDomain()).isEqualTo("cluster.local");
    assertThat(mesh.proxyDefaults().discoveryAddress()).isEqualTo("istiod.mesh-ns.svc:15012");
    assertThat(mesh.outboundTrafficPolicy()).isEqualTo(MeshConfig.OutboundTrafficPolicy.ALLOW_ANY);
    assertThat(Chart.containerArgs(documents, "istiod")).contains("--mesh-config-map=istio");
  }

  @Test
  void template_customMeshConfig_rendersEveryValueOverTheDefaults() throws Exception {
    List<JsonNode> documents =
        Chart.documents(Chart.template("istio-system", CUSTOM_MESH_CONFIG, false));
    MeshConfigParser.Result result =
        MeshConfigParser.parse(
            Chart.find(documents, "ConfigMap", "istio").path("data").path("mesh").asText());
    MeshConfig mesh = result.config();
    assertThat(mesh.rootNamespace()).isEqualTo("mesh-root");
    assertThat(mesh.trustDomain()).isEqualTo("corp.example");
    assertThat(mesh.outboundTrafficPolicy())
        .isEqualTo(MeshConfig.OutboundTrafficPolicy.REGISTRY_ONLY);
    assertThat(mesh.connectTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(mesh.enableAutoMtls()).isFalse();
    assertThat(mesh.exportTo().services()).containsExactly(".");
    assertThat(mesh.localityLbSetting().getEnabled()).isFalse();
    assertThat(mesh.proxyDefaults().holdApplicationUntilProxyStarts()).isTrue();
    assertThat(mesh.proxyDefaults().proxyMetadata())
        .isEqualTo(Map.of("ISTIO_META_DNS_CAPTURE", "dns"));
    assertThat(mesh.proxyDefaults().discoveryAddress())
        .as("a default the values do not replace stays")
        .isEqualTo("istiod.istio-system.svc:15012");
    assertThat(mesh.document().path("accessLogFile").asText()).isEqualTo("/dev/stdout");
    assertThat(result.warnings())
        .containsExactly("enableTracing: not honoured by Bosun (kept, no effect)");
    assertThat(Chart.containerArgs(documents, "istiod"))
        .as("the ConfigMap, not flags, carries the trust domain and root namespace")
        .noneMatch(arg -> arg.startsWith("--trust-domain") || arg.startsWith("--root-namespace"));
  }

  @Test
  void template_revision_meshConfigMapIsSuffixedAndItsDiscoveryAddressIsTheRevisions()
      throws Exception {
    List<JsonNode> documents =
        Chart.documents(Chart.template("istio-system", Map.of("revision", "canary"), false));
    JsonNode configMap = Chart.find(documents, "ConfigMap", "istio-canary");
    assertThat(
            MeshConfigParser.parse(configMap.path("data").path("mesh").asText())
                .config()
                .proxyDefaults()
                .discoveryAddress())
        .isEqualTo("istiod-canary.istio-system.svc:15012");
    assertThat(Chart.containerArgs(documents, "istiod-canary"))
        .contains("--mesh-config-map=istio-canary");
  }

  @Test
  void template_oneReplica_hasNoDisruptionBudgetOrAntiAffinity() throws Exception {
    List<JsonNode> documents =
        Chart.documents(Chart.template("istio-system", Map.of("replicaCount", 1), false));
    assertThat(documents).noneMatch(d -> d.path("kind").asText().equals("PodDisruptionBudget"));
    assertThat(
            Chart.find(documents, "Deployment", "istiod")
                .path("spec")
                .path("template")
                .path("spec")
                .path("affinity")
                .isMissingNode())
        .isTrue();
  }

  /**
   * {@code deploy/bosun.yaml} is the chart's default rendering, for {@code kubectl apply -f}; this
   * fails when it is stale ({@code -Dgolden.update=true} rewrites it).
   */
  @Test
  void template_ingressGateway_isInjectedByBosunAsARouter_behindIstiosPorts() throws Exception {
    List<JsonNode> documents =
        Chart.documents(
            Chart.template("istio-system", Map.of("ingressGateway.enabled", true), false));
    JsonNode service = Chart.find(documents, "Service", "istio-ingressgateway");
    assertThat(service.path("spec").path("selector").toString())
        .isEqualTo("{\"app\":\"istio-ingressgateway\",\"istio\":\"ingressgateway\"}");
    List<String> ports = new java.util.ArrayList<>();
    service
        .path("spec")
        .path("ports")
        .forEach(p -> ports.add(p.path("port").asText() + "->" + p.path("targetPort").asText()));
    assertThat(ports).containsExactly("15021->15021", "80->8080", "443->8443");
    JsonNode deployment = Chart.find(documents, "Deployment", "istio-ingressgateway");
    io.fabric8.kubernetes.api.model.Pod pod =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withMetadata(
                Serialization.unmarshal(
                    deployment.path("spec").path("template").path("metadata").toString(),
                    io.fabric8.kubernetes.api.model.ObjectMeta.class))
            .withSpec(
                Serialization.unmarshal(
                    deployment.path("spec").path("template").path("spec").toString(),
                    io.fabric8.kubernetes.api.model.PodSpec.class))
            .build();
    // What Bosun's own injector makes of the chart's pod: the stock proxy in router mode.
    io.fabric8.kubernetes.api.model.Pod injected =
        new dev.bosun.controlplane.webhook.inject.SidecarInjector(
                dev.bosun.controlplane.webhook.inject.InjectionSettings.defaults(
                    "istio-system", ""),
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance::objectNode)
            .inject(pod, "istio-system")
            .pod();
    var proxy = injected.getSpec().getContainers().get(0);
    assertThat(proxy.getName()).isEqualTo("istio-proxy");
    assertThat(proxy.getImage()).isEqualTo("docker.io/istio/proxyv2:1.28.0");
    assertThat(proxy.getArgs()).startsWith("proxy", "router");
    assertThat(injected.getSpec().getInitContainers()).isNullOrEmpty();
  }

  @Test
  void deployCopy_isTheDefaultRendering() throws Exception {
    String rendered =
        "# Rendered from charts/bosun with its default values (release bosun, namespace"
            + " istio-system).\n# The CRDs are in deploy/crds/. Apply both: kubectl apply -f"
            + " deploy/crds/ && kubectl apply -f deploy/bosun.yaml\n"
            + Chart.template("istio-system", Map.of(), false);
    Path copy = Chart.DIR.getParent().getParent().resolve("deploy/bosun.yaml");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(copy, rendered, StandardCharsets.UTF_8);
    }
    assertThat(copy).exists();
    assertThat(Files.readString(copy, StandardCharsets.UTF_8))
        .as("deploy/bosun.yaml is stale: rerun with -Dgolden.update=true")
        .isEqualTo(rendered);
  }
}
