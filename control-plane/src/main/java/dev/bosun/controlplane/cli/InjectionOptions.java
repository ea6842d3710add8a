package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.webhook.inject.InjectionPolicy;
import dev.bosun.controlplane.webhook.inject.InjectionSettings;
import dev.bosun.controlplane.webhook.inject.InjectionSettings.Images;
import dev.bosun.controlplane.webhook.inject.InjectionSettings.MeshIdentity;
import dev.bosun.controlplane.webhook.inject.PodSelectors;
import picocli.CommandLine.Option;

/** The sidecar injection webhook's settings (istiod's chart values of the same meaning). */
final class InjectionOptions {
  @Option(
      names = "--injection",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Serve the sidecar injection webhook on /inject (default: ${DEFAULT-VALUE}).")
  boolean enabled;

  @Option(
      names = "--proxy-hub",
      defaultValue = "docker.io/istio",
      description = "Registry of the proxy images (default: ${DEFAULT-VALUE}).")
  String hub;

  @Option(
      names = "--proxy-tag",
      defaultValue = InjectionSettings.ISTIO_TAG,
      description = "Tag of the proxy images (default: ${DEFAULT-VALUE}).")
  String tag;

  @Option(
      names = "--proxy-image",
      defaultValue = "proxyv2",
      description =
          "Proxy image name under the hub, or a full reference with a registry (default:"
              + " ${DEFAULT-VALUE}).")
  String proxyImage;

  @Option(
      names = "--proxy-init-image",
      defaultValue = "proxyv2",
      description =
          "Image of the istio-init container, as --proxy-image (default: ${DEFAULT-VALUE}).")
  String proxyInitImage;

  @Option(
      names = "--proxy-image-pull-policy",
      defaultValue = "",
      description = "imagePullPolicy of the injected containers (default: unset).")
  String pullPolicy;

  @Option(
      names = "--cluster-id",
      defaultValue = "",
      description = "ISTIO_META_CLUSTER_ID of injected proxies (default: Kubernetes).")
  String clusterId;

  @Option(
      names = "--network",
      defaultValue = "",
      description = "ISTIO_META_NETWORK of injected proxies (default: none).")
  String network;

  @Option(
      names = "--mesh-id",
      defaultValue = "",
      description = "ISTIO_META_MESH_ID of injected proxies (default: the trust domain).")
  String meshId;

  @Option(
      names = "--native-sidecars",
      defaultValue = "false",
      fallbackValue = "true",
      arity = "0..1",
      description =
          "Inject the proxy as a native sidecar (an init container with restartPolicy Always),"
              + " as istiod's ENABLE_NATIVE_SIDECARS=true (default: ${DEFAULT-VALUE}).")
  boolean nativeSidecars;

  @Option(
      names = "--cni",
      defaultValue = "false",
      fallbackValue = "true",
      arity = "0..1",
      description =
          "The Istio CNI node agent captures traffic: inject istio-validation instead of the"
              + " privileged istio-init (default: ${DEFAULT-VALUE}).")
  boolean cni;

  @Option(
      names = "--hold-application-until-proxy-starts",
      defaultValue = "false",
      fallbackValue = "true",
      arity = "0..1",
      description = "Start app containers once the proxy is ready (default: ${DEFAULT-VALUE}).")
  boolean hold;

  @Option(
      names = "--ca-address",
      defaultValue = "",
      description =
          "CA_ADDR of injected proxies (default: istiod[-<revision>].<namespace>.svc:15012).")
  String caAddress;

  @Option(
      names = "--never-inject-selector",
      defaultValue = "[]",
      paramLabel = "JSON",
      description =
          "Label selectors (a JSON list, as istiod's neverInjectSelector): pods that match and"
              + " set no sidecar.istio.io/inject are not injected (default: ${DEFAULT-VALUE}).")
  String neverInjectSelector;

  @Option(
      names = "--always-inject-selector",
      defaultValue = "[]",
      paramLabel = "JSON",
      description =
          "Label selectors (a JSON list, as istiod's alwaysInjectSelector): pods that match and"
              + " set no sidecar.istio.io/inject are injected even with auto-injection off"
              + " (default: ${DEFAULT-VALUE}).")
  String alwaysInjectSelector;

  @Option(
      names = "--injected-annotations",
      defaultValue = "{}",
      paramLabel = "JSON",
      description =
          "Annotations set on every injected pod (a JSON object, as istiod's"
              + " sidecarInjectorWebhook.injectedAnnotations) (default: ${DEFAULT-VALUE}).")
  String injectedAnnotations;

  /**
   * The {@code --injected-annotations} map.
   *
   * @throws IllegalArgumentException if it is not a JSON object of strings, naming the flag
   */
  java.util.Map<String, String> injectedAnnotations() {
    com.fasterxml.jackson.databind.JsonNode tree;
    try {
      tree = dev.bosun.crd.IstioJson.json().readTree(injectedAnnotations);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "--injected-annotations: not JSON (expected: an object of strings, e.g."
              + " {\"example.com/team\":\"shop\"})");
    }
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(
          "--injected-annotations: " + injectedAnnotations + " (expected: a JSON object)");
    }
    java.util.Map<String, String> annotations = new java.util.TreeMap<>();
    for (var field :
        (Iterable<java.util.Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>)
            tree::fields) {
      if (!field.getValue().isTextual()) {
        throw new IllegalArgumentException(
            "--injected-annotations: "
                + field.getKey()
                + ": "
                + field.getValue()
                + " (expected: a string value)");
      }
      annotations.put(field.getKey(), field.getValue().asText());
    }
    return annotations;
  }

  /**
   * Checks the selector flags, so that a malformed one is a usage error at start.
   *
   * @throws IllegalArgumentException if a selector flag is malformed, naming it
   */
  void checkSelectors() {
    never();
    always();
    injectedAnnotations();
  }

  /** The policy deciding which pods are injected (the selectors checked at start). */
  InjectionPolicy policy(InjectionSettings settings) {
    return new InjectionPolicy(settings.autoInject(), never(), always());
  }

  private PodSelectors never() {
    return PodSelectors.parse("--never-inject-selector", neverInjectSelector);
  }

  private PodSelectors always() {
    return PodSelectors.parse("--always-inject-selector", alwaysInjectSelector);
  }

  InjectionSettings settings(String namespace, String revision, String trustDomain, String domain) {
    InjectionSettings defaults = InjectionSettings.defaults(namespace, revision);
    return new InjectionSettings(
        revision,
        namespace,
        caAddress.isEmpty() ? defaults.caAddress() : caAddress,
        new Images(hub, tag, proxyImage, proxyInitImage, pullPolicy),
        new MeshIdentity(clusterId, network, meshId, trustDomain, domain),
        defaults.proxy().withHoldApplicationUntilProxyStarts(hold),
        nativeSidecars,
        cni,
        defaults.autoInject(),
        defaults.rewriteAppProbes());
  }
}
