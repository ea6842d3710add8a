package dev.bosun.controlplane.webhook.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a template renders from, as istiod's template data: the pod, the settings, the
 * effective ProxyConfig, whether the proxy runs as a native sidecar, and the traffic capture.
 */
public record TemplateInput(
    PodFacts pod,
    InjectionSettings settings,
    ObjectNode proxyConfig,
    boolean nativeSidecar,
    TrafficCaptureAnnotations traffic) {

  public TemplateInput {
    requireNonNull(pod, "pod");
    requireNonNull(settings, "settings");
    requireNonNull(proxyConfig, "proxyConfig");
    requireNonNull(traffic, "traffic");
  }

  /** ProxyConfig {@code proxyMetadata}, in key order (as Go's templates range over a map). */
  public Map<String, String> proxyMetadata() {
    Map<String, String> metadata = new TreeMap<>();
    proxyConfig
        .path("proxyMetadata")
        .fields()
        .forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
    return metadata;
  }

  /** ProxyConfig {@code interceptionMode}, {@code REDIRECT} unless set. */
  public String meshInterceptionMode() {
    return proxyConfig.path("interceptionMode").asText("REDIRECT");
  }

  /** Whether the app waits for the proxy: ProxyConfig or the chart's default. */
  public boolean holdApplicationUntilProxyStarts() {
    JsonNode hold = proxyConfig.path("holdApplicationUntilProxyStarts");
    boolean fromConfig =
        hold.isBoolean() ? hold.booleanValue() : hold.path("value").asBoolean(hold.asBoolean());
    return fromConfig || settings.proxy().holdApplicationUntilProxyStarts();
  }

  /** The proxy image: an annotation naming a registry, else {@code <hub>/<proxy>:<tag>}. */
  public String proxyImage() {
    String annotated = pod.annotation(SidecarAnnotations.PROXY_IMAGE, settings.images().proxy());
    if (annotated.contains("/")) {
      return annotated;
    }
    String type = proxyConfig.path("image").path("imageType").asText("");
    return settings
        .images()
        .image(
            settings.images().proxy(), pod.annotation(SidecarAnnotations.PROXY_IMAGE_TYPE, type));
  }

  /** The init container's image, chosen as the proxy's but from {@code proxy_init.image}. */
  public String proxyInitImage() {
    String annotated =
        pod.annotation(SidecarAnnotations.PROXY_IMAGE, settings.images().proxyInit());
    if (annotated.contains("/")) {
      return annotated;
    }
    return settings
        .images()
        .image(
            settings.images().proxyInit(), pod.annotation(SidecarAnnotations.PROXY_IMAGE_TYPE, ""));
  }
}
