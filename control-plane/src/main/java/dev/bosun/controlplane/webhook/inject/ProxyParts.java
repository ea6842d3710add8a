package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The parts the sidecar and grpc-agent templates share, built as istiod's templates write them: the
 * agent's arguments, its identity environment, resources, the pod metadata both set, and the
 * volumes pilot-agent expects.
 */
final class ProxyParts {
  private ProxyParts() {}

  /** {@code proxy sidecar --domain ... --proxyLogLevel ...}. */
  static List<String> agentArgs(TemplateInput in) {
    return agentArgs(in, "sidecar");
  }

  /** pilot-agent's arguments for a proxy of {@code type} ({@code sidecar} or {@code router}). */
  static List<String> agentArgs(TemplateInput in, String type) {
    var proxy = in.settings().proxy();
    return List.of(
        "proxy",
        type,
        "--domain",
        "$(POD_NAMESPACE).svc." + in.settings().mesh().clusterDomain(),
        "--proxyLogLevel=" + in.pod().annotation(LOG_LEVEL, proxy.logLevel()),
        "--proxyComponentLogLevel="
            + in.pod().annotation(COMPONENT_LOG_LEVEL, proxy.componentLogLevel()),
        "--log_output_level=" + agentLogLevel(in));
  }

  static String agentLogLevel(TemplateInput in) {
    return in.pod().annotation(AGENT_LOG_LEVEL, in.settings().proxy().agentLogLevel());
  }

  /**
   * Requests and limits: the pod's {@code sidecar.istio.io/proxy*} annotations when it has any
   * (then only those), else the defaults.
   */
  static ResourceRequirements resources(TemplateInput in) {
    PodFacts pod = in.pod();
    boolean annotated =
        List.of(PROXY_CPU, PROXY_MEMORY, PROXY_CPU_LIMIT, PROXY_MEMORY_LIMIT).stream()
            .anyMatch(pod.annotations()::containsKey);
    ResourceRequirements resources = new ResourceRequirements();
    if (!annotated) {
      resources.setRequests(quantities(in.settings().proxy().requests()));
      resources.setLimits(quantities(in.settings().proxy().limits()));
      return resources;
    }
    Map<String, String> requests = new LinkedHashMap<>();
    Map<String, String> limits = new LinkedHashMap<>();
    putIfAnnotated(pod, PROXY_CPU, "cpu", requests);
    putIfAnnotated(pod, PROXY_MEMORY, "memory", requests);
    putIfAnnotated(pod, PROXY_CPU_LIMIT, "cpu", limits);
    putIfAnnotated(pod, PROXY_MEMORY_LIMIT, "memory", limits);
    resources.setRequests(requests.isEmpty() ? null : quantities(requests));
    resources.setLimits(limits.isEmpty() ? null : quantities(limits));
    return resources;
  }

  private static void putIfAnnotated(
      PodFacts pod, String annotation, String resource, Map<String, String> into) {
    String value = pod.annotations().get(annotation);
    if (value != null) {
      into.put(resource, value);
    }
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    if (values.isEmpty()) {
      return null;
    }
    Map<String, Quantity> out = new TreeMap<>();
    values.forEach((k, v) -> out.put(k, new Quantity(v)));
    return out;
  }

  static EnvVar env(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  static EnvVar fieldEnv(String name, String fieldPath) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewFieldRef()
        .withFieldPath(fieldPath)
        .endFieldRef()
        .endValueFrom()
        .build();
  }

  static EnvVar resourceEnv(String name, String resource) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewResourceFieldRef()
        .withResource(resource)
        .withDivisor(new Quantity("1"))
        .endResourceFieldRef()
        .endValueFrom()
        .build();
  }

  /** {@code PILOT_CERT_PROVIDER} through {@code HOST_IP}: where the CA is and who the pod is. */
  static List<EnvVar> identityEnv(TemplateInput in) {
    return List.of(
        env("PILOT_CERT_PROVIDER", "istiod"),
        env("CA_ADDR", in.settings().caAddress()),
        fieldEnv("POD_NAME", "metadata.name"),
        fieldEnv("POD_NAMESPACE", "metadata.namespace"),
        fieldEnv("INSTANCE_IP", "status.podIP"),
        fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        fieldEnv("HOST_IP", "status.hostIP"));
  }

  /** {@code PROXY_CONFIG}: the effective ProxyConfig as one line of JSON, newline-terminated. */
  static EnvVar proxyConfigEnv(TemplateInput in) {
    try {
      return env("PROXY_CONFIG", IstioJson.json().writeValueAsString(in.proxyConfig()) + "\n");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("PROXY_CONFIG: cannot write " + in.proxyConfig(), e);
    }
  }

  /**
   * {@code ISTIO_META_POD_PORTS}: every port of every container of the pod, each as Kubernetes
   * writes a ContainerPort (fields in Go's order, empty ones left out), one per line.
   */
  static EnvVar podPortsEnv(List<Container> containers) {
    StringBuilder value = new StringBuilder("[");
    boolean first = true;
    for (Container container : containers) {
      for (ContainerPort port : nullToEmpty(container.getPorts())) {
        value.append("\n    ").append(first ? "" : ",").append(portJson(port));
        first = false;
      }
    }
    return env("ISTIO_META_POD_PORTS", value.append("\n]").toString());
  }

  private static String portJson(ContainerPort port) {
    ObjectNode json = IstioJson.json().createObjectNode();
    if (port.getName() != null && !port.getName().isEmpty()) {
      json.put("name", port.getName());
    }
    if (port.getHostPort() != null && port.getHostPort() != 0) {
      json.put("hostPort", port.getHostPort());
    }
    json.put("containerPort", port.getContainerPort() == null ? 0 : port.getContainerPort());
    if (port.getProtocol() != null && !port.getProtocol().isEmpty()) {
      json.put("protocol", port.getProtocol());
    }
    if (port.getHostIP() != null && !port.getHostIP().isEmpty()) {
      json.put("hostIP", port.getHostIP());
    }
    port.getAdditionalProperties().forEach((k, v) -> json.set(k, IstioJson.json().valueToTree(v)));
    return json.toString();
  }

  /** {@code ISTIO_META_APP_CONTAINERS}: the app containers' names, comma-separated. */
  static EnvVar appContainersEnv(TemplateInput in) {
    return env(
        "ISTIO_META_APP_CONTAINERS",
        in.pod().appContainers().stream().map(Container::getName).collect(Collectors.joining(",")));
  }

  /** {@code ISTIO_META_MESH_ID} (the mesh ID, else the trust domain) and {@code TRUST_DOMAIN}. */
  static List<EnvVar> meshEnv(TemplateInput in) {
    var mesh = in.settings().mesh();
    List<EnvVar> env = new ArrayList<>();
    String meshId = mesh.meshId().isEmpty() ? mesh.trustDomain() : mesh.meshId();
    if (!meshId.isEmpty()) {
      env.add(env("ISTIO_META_MESH_ID", meshId));
    }
    if (!mesh.trustDomain().isEmpty()) {
      env.add(env("TRUST_DOMAIN", mesh.trustDomain()));
    }
    return env;
  }

  /** ProxyConfig {@code proxyMetadata} as environment, in key order. */
  static List<EnvVar> metadataEnv(TemplateInput in) {
    List<EnvVar> env = new ArrayList<>();
    in.proxyMetadata().forEach((k, v) -> env.add(env(k, v)));
    return env;
  }

  /** The labels both templates set; {@code truncate} cuts the name to a label value's 63. */
  static Map<String, String> canonicalLabels(PodFacts pod, boolean truncate) {
    String name =
        pod.firstLabel(pod.workloadName(), LABEL_CANONICAL_NAME, "app.kubernetes.io/name", "app");
    if (truncate) {
      name = name.length() > 63 ? name.substring(0, 63) : name;
      name = name.replaceAll("^[-_.]+", "").replaceAll("[-_.]+$", "");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_CANONICAL_NAME, name);
    labels.put(
        LABEL_CANONICAL_REVISION,
        pod.firstLabel("latest", LABEL_CANONICAL_REVISION, "app.kubernetes.io/version", "version"));
    return labels;
  }

  /** {@code istio.io/rev} and, unless the pod sets them, kubectl's default container. */
  static Map<String, String> commonAnnotations(TemplateInput in) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(REVISION, in.settings().revisionLabel());
    List<Container> apps = in.pod().appContainers();
    if (!apps.isEmpty()) {
      String first = apps.get(0).getName();
      if (!in.pod().annotations().containsKey(DEFAULT_LOGS_CONTAINER)) {
        annotations.put(DEFAULT_LOGS_CONTAINER, first);
      }
      if (!in.pod().annotations().containsKey(DEFAULT_CONTAINER)) {
        annotations.put(DEFAULT_CONTAINER, first);
      }
    }
    return annotations;
  }

  /**
   * The agent's readiness probe on {@code port}: {@code /healthz/ready}, timing from the pod's
   * {@code readiness.status.sidecar.istio.io/*} annotations, else the defaults; a zero initial
   * delay is left out, as Kubernetes writes it.
   */
  static io.fabric8.kubernetes.api.model.Probe readinessProbe(TemplateInput in, int port) {
    var proxy = in.settings().proxy();
    int delay =
        Integer.parseInt(
            in.pod()
                .annotation(
                    READINESS_INITIAL_DELAY,
                    Integer.toString(proxy.readinessInitialDelaySeconds())));
    return new io.fabric8.kubernetes.api.model.ProbeBuilder()
        .withNewHttpGet()
        .withPath("/healthz/ready")
        .withNewPort(port)
        .endHttpGet()
        .withInitialDelaySeconds(delay == 0 ? null : delay)
        .withPeriodSeconds(
            Integer.parseInt(
                in.pod()
                    .annotation(
                        READINESS_PERIOD, Integer.toString(proxy.readinessPeriodSeconds()))))
        .withTimeoutSeconds(3)
        .withFailureThreshold(
            Integer.parseInt(
                in.pod()
                    .annotation(
                        READINESS_FAILURE_THRESHOLD,
                        Integer.toString(proxy.readinessFailureThreshold()))))
        .build();
  }

  /**
   * What pilot-agent and Envoy mount in {@code istio-proxy} (the sidecar's also {@code
   * istio-ca-crl}), then the pod's {@code sidecar.istio.io/userVolumeMount}.
   */
  static List<VolumeMount> envoyMounts(TemplateInput in, boolean crl) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(mount("workload-socket", "/var/run/secrets/workload-spiffe-uds"));
    mounts.add(mount("credential-socket", "/var/run/secrets/credential-uds"));
    mounts.add(mount("workload-certs", "/var/run/secrets/workload-spiffe-credentials"));
    mounts.add(mount("istiod-ca-cert", "/var/run/secrets/istio"));
    if (crl) {
      mounts.add(mount("istio-ca-crl", "/var/run/secrets/istio/crl"));
    }
    mounts.add(mount("istio-data", "/var/lib/istio/data"));
    mounts.add(mount("istio-envoy", "/etc/istio/proxy"));
    mounts.add(mount("istio-token", "/var/run/secrets/tokens"));
    mounts.add(mount("istio-podinfo", "/etc/istio/pod"));
    mounts.addAll(userEntries(in.pod(), USER_VOLUME_MOUNT, VolumeMount.class));
    return mounts;
  }

  /** The volumes of {@link #envoyMounts}, then the pod's {@code sidecar.istio.io/userVolume}. */
  static List<Volume> envoyVolumes(TemplateInput in, boolean crl) {
    List<Volume> volumes =
        new ArrayList<>(
            List.of(
                named("workload-socket"),
                named("credential-socket"),
                named("workload-certs"),
                memoryDir("istio-envoy"),
                emptyDir("istio-data"),
                podInfo(),
                token(in.settings().proxy().tokenAudience()),
                caRoot()));
    if (crl) {
      volumes.add(
          new io.fabric8.kubernetes.api.model.VolumeBuilder()
              .withName("istio-ca-crl")
              .withNewConfigMap()
              .withName("istio-ca-crl")
              .withOptional(true)
              .endConfigMap()
              .build());
    }
    volumes.addAll(userEntries(in.pod(), USER_VOLUME, Volume.class));
    return volumes;
  }

  static VolumeMount mount(String name, String path) {
    return new VolumeMountBuilder().withName(name).withMountPath(path).build();
  }

  /** A volume with only a name, which Kubernetes makes an emptyDir (as istiod writes them). */
  static Volume named(String name) {
    return new VolumeBuilder().withName(name).build();
  }

  static Volume memoryDir(String name) {
    return new VolumeBuilder()
        .withName(name)
        .withNewEmptyDir()
        .withMedium("Memory")
        .endEmptyDir()
        .build();
  }

  static Volume emptyDir(String name) {
    return new VolumeBuilder().withName(name).withNewEmptyDir().endEmptyDir().build();
  }

  static Volume podInfo() {
    return new VolumeBuilder()
        .withName("istio-podinfo")
        .withNewDownwardAPI()
        .addNewItem()
        .withPath("labels")
        .withNewFieldRef()
        .withFieldPath("metadata.labels")
        .endFieldRef()
        .endItem()
        .addNewItem()
        .withPath("annotations")
        .withNewFieldRef()
        .withFieldPath("metadata.annotations")
        .endFieldRef()
        .endItem()
        .endDownwardAPI()
        .build();
  }

  /** The service-account token the agent presents to the CA, for {@code audience}. */
  static Volume token(String audience) {
    return new VolumeBuilder()
        .withName("istio-token")
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withAudience(audience)
        .withExpirationSeconds(43200L)
        .withPath("istio-token")
        .endServiceAccountToken()
        .endSource()
        .endProjected()
        .build();
  }

  /** The mesh root the agent trusts the control plane with, from {@code istio-ca-root-cert}. */
  static Volume caRoot() {
    return new VolumeBuilder()
        .withName("istiod-ca-cert")
        .withNewConfigMap()
        .withName("istio-ca-root-cert")
        .endConfigMap()
        .build();
  }

  /**
   * The {@code sidecar.istio.io/userVolume} or {@code userVolumeMount} annotation: a JSON object of
   * name to volume (or mount), in name order.
   *
   * @throws IllegalArgumentException naming the annotation when it is not such an object
   */
  static <T> List<T> userEntries(PodFacts pod, String annotation, Class<T> type) {
    String value = pod.annotations().get(annotation);
    if (value == null) {
      return List.of();
    }
    JsonNode json;
    try {
      json = IstioJson.json().readTree(value);
    } catch (JsonProcessingException e) {
      json = null;
    }
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException(
          annotation
              + ": "
              + value
              + " (expected: a JSON object of name to "
              + type.getSimpleName()
              + ")");
    }
    List<T> entries = new ArrayList<>();
    new TreeMap<String, JsonNode>(
            Serialization.jsonMapper()
                .convertValue(
                    json,
                    new com.fasterxml.jackson.core.type.TypeReference<Map<String, JsonNode>>() {}))
        .forEach(
            (name, entry) -> {
              ObjectNode named =
                  entry.isObject()
                      ? ((ObjectNode) entry).deepCopy()
                      : IstioJson.json().createObjectNode();
              named.put("name", name);
              entries.add(Serialization.jsonMapper().convertValue(named, type));
            });
    return entries;
  }

  static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
