package dev.bosun.controlplane.webhook.inject;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the templates read from the pod being admitted: its labels, annotations, app containers and
 * the workload that owns it (a Deployment rather than its ReplicaSet, a CronJob rather than its
 * Job), found as istiod finds them.
 *
 * @param namespace the pod's namespace (from the request when the pod does not carry it yet)
 * @param workloadName the owning workload's name, or the pod's
 * @param ownerApiVersion the owner's API version ({@code v1} for a bare pod)
 * @param ownerKind the owner's kind ({@code Pod} for a bare pod)
 * @param allContainers the pod's containers, in order (with an {@code istio-proxy} it overrides)
 */
public record PodFacts(
    String namespace,
    Map<String, String> labels,
    Map<String, String> annotations,
    String workloadName,
    String ownerApiVersion,
    String ownerKind,
    List<Container> allContainers) {
  private static final Pattern CRON_JOB = Pattern.compile("(.+)-\\d{8,10}$");

  public PodFacts {
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
    allContainers = List.copyOf(allContainers);
  }

  /** The facts of {@code pod}, admitted into {@code namespace}. */
  public static PodFacts of(Pod pod, String namespace) {
    var metadata = pod.getMetadata();
    Map<String, String> labels = metadata.getLabels() == null ? Map.of() : metadata.getLabels();
    String name = metadata.getName() == null ? "" : metadata.getName();
    String apiVersion = "v1";
    String kind = "Pod";
    String workload = name;
    Optional<OwnerReference> controller =
        metadata.getGenerateName() == null || metadata.getGenerateName().isEmpty()
            ? Optional.empty()
            : Optional.ofNullable(metadata.getOwnerReferences()).stream()
                .flatMap(List::stream)
                .filter(ref -> Boolean.TRUE.equals(ref.getController()))
                .findFirst();
    if (controller.isPresent()) {
      OwnerReference ref = controller.get();
      apiVersion = ref.getApiVersion();
      kind = ref.getKind();
      workload = ref.getName();
      String hash = labels.getOrDefault("pod-template-hash", "");
      Matcher cron = CRON_JOB.matcher(workload);
      if (kind.equals("ReplicaSet") && !hash.isEmpty() && workload.endsWith(hash)) {
        workload = workload.substring(0, workload.length() - hash.length() - 1);
        kind = "Deployment";
      } else if (kind.equals("ReplicationController") && labels.containsKey("deploymentconfig")) {
        workload = labels.get("deploymentconfig");
        kind = "DeploymentConfig";
      } else if (kind.equals("Job") && cron.matches()) {
        workload = cron.group(1);
        kind = "CronJob";
        apiVersion = "batch/v1";
      }
    }
    if (workload.isEmpty()) {
      workload = name;
    }
    return new PodFacts(
        namespace,
        labels,
        metadata.getAnnotations() == null ? Map.of() : metadata.getAnnotations(),
        workload,
        apiVersion,
        kind,
        pod.getSpec().getContainers());
  }

  /** The pod's containers except {@code istio-proxy}, in order. */
  public List<Container> appContainers() {
    return allContainers.stream()
        .filter(c -> !SidecarAnnotations.PROXY_CONTAINER.equals(c.getName()))
        .toList();
  }

  /** The annotation's value, or {@code fallback} when the pod has none. */
  public String annotation(String name, String fallback) {
    return annotations.getOrDefault(name, fallback);
  }

  /**
   * The first label among {@code names} the pod has with a non-empty value, or {@code fallback}.
   */
  public String firstLabel(String fallback, String... names) {
    for (String name : names) {
      String value = labels.get(name);
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    return fallback;
  }

  /** {@code kubernetes://apis/<version>/namespaces/<ns>/<kind>s/<name>}, istiod's owner URI. */
  public String ownerUri() {
    return "kubernetes://apis/"
        + ownerApiVersion
        + "/namespaces/"
        + (namespace.isEmpty() ? "default" : namespace)
        + "/"
        + ownerKind.toLowerCase(java.util.Locale.ROOT)
        + "s/"
        + workloadName;
  }
}
