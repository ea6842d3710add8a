package dev.bosun.controlplane.webhook.inject;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a pod the webhook configuration sent is injected, as istiod decides after the API
 * server's namespace and object selectors: never with host networking, in Kubernetes' own
 * namespaces, or when already injected; otherwise the pod's {@code sidecar.istio.io/inject} label
 * (or, without it, annotation) decides; with neither, a {@code neverInjectSelector} that matches
 * the pod's labels says no, else an {@code alwaysInjectSelector} that matches says yes, else the
 * mesh's auto-inject policy decides.
 */
public final class InjectionPolicy {
  /** Kubernetes' own namespaces, which istiod never injects. */
  public static final Set<String> IGNORED_NAMESPACES =
      Set.of("kube-system", "kube-public", "kube-node-lease", "local-path-storage");

  /** The outcome: inject or not, why not, and what the pod got wrong on the way. */
  public record Decision(boolean inject, String reason, List<String> warnings) {
    public Decision {
      warnings = List.copyOf(warnings);
    }
  }

  private final boolean autoInject;
  private final PodSelectors never;
  private final PodSelectors always;

  /**
   * @param autoInject inject pods that express no opinion ({@code global.proxy.autoInject:
   *     enabled})
   */
  public InjectionPolicy(boolean autoInject) {
    this(autoInject, PodSelectors.NONE, PodSelectors.NONE);
  }

  /**
   * @param never istiod's {@code neverInjectSelector}: pods without their own opinion that match
   *     are not injected (it wins over {@code always})
   * @param always istiod's {@code alwaysInjectSelector}: such pods that match are injected
   */
  public InjectionPolicy(boolean autoInject, PodSelectors never, PodSelectors always) {
    this.autoInject = autoInject;
    this.never = java.util.Objects.requireNonNull(never, "never");
    this.always = java.util.Objects.requireNonNull(always, "always");
  }

  /** The decision for {@code pod} in {@code namespace}. */
  public Decision decide(Pod pod, String namespace) {
    if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      return new Decision(false, "spec.hostNetwork is true", List.of());
    }
    if (IGNORED_NAMESPACES.contains(namespace)) {
      return new Decision(false, "namespace " + namespace + " is never injected", List.of());
    }
    Map<String, String> annotations = orEmpty(pod.getMetadata().getAnnotations());
    if (annotations.containsKey(SidecarAnnotations.STATUS)) {
      return new Decision(
          false, "already injected (" + SidecarAnnotations.STATUS + " is set)", List.of());
    }
    Map<String, String> labels = orEmpty(pod.getMetadata().getLabels());
    String says = annotations.getOrDefault(SidecarAnnotations.INJECT, "");
    if (labels.containsKey(SidecarAnnotations.INJECT)) {
      says = labels.get(SidecarAnnotations.INJECT);
    }
    return switch (says.toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> new Decision(true, "", List.of());
      case "false" -> new Decision(false, SidecarAnnotations.INJECT + " is \"false\"", List.of());
      case "" -> byDefault(labels, List.of());
      default ->
          byDefault(
              labels,
              List.of(
                  SidecarAnnotations.INJECT
                      + ": \""
                      + says
                      + "\" (expected: true or false); the mesh default applies"));
    };
  }

  private Decision byDefault(Map<String, String> labels, List<String> warnings) {
    if (never.anyMatches(labels)) {
      return new Decision(false, "the pod's labels match a neverInjectSelector", warnings);
    }
    if (always.anyMatches(labels)) {
      return new Decision(true, "", warnings);
    }
    return autoInject
        ? new Decision(true, "", warnings)
        : new Decision(
            false, "auto-injection is disabled and the pod does not ask for it", warnings);
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
