package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Container;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Prometheus metrics merging, as istiod's: the pod's {@code prometheus.io/*} scrape annotations are
 * handed to the agent ({@code ISTIO_PROMETHEUS_ANNOTATIONS}) and replaced by ones pointing at the
 * agent's status port, which serves the app's metrics merged with Envoy's. Annotation names are
 * matched as Prometheus sanitises them ({@code prometheus.io/port} and {@code prometheus_io_port}
 * alike).
 */
final class PrometheusMerge {
  static final String ENV = "ISTIO_PROMETHEUS_ANNOTATIONS";
  private static final List<String> CLEARED =
      List.of(
          "prometheus_io_path",
          "prometheus_io_port",
          "prometheus_io_scrape",
          "prometheus_istio_io_scrape_targets");

  private PrometheusMerge() {}

  /**
   * Rewrites {@code annotations} and appends to the proxy's environment when merging applies.
   *
   * @param meshDefault the mesh's {@code enablePrometheusMerge} (istiod's default: true)
   * @param warnings where what is left out is reported
   * @throws IllegalArgumentException when the scrape port is not a port or is the agent's own
   */
  static void apply(
      Map<String, String> annotations,
      Container proxy,
      int statusPort,
      boolean meshDefault,
      List<String> warnings) {
    if (!scrape(annotations) || !enabled(annotations, meshDefault)) {
      return;
    }
    String target = Integer.toString(statusPort);
    String scrape = "";
    String path = "";
    String port = null;
    for (Map.Entry<String, String> e : annotations.entrySet()) {
      switch (sanitize(e.getKey())) {
        case "prometheus_io_scrape" -> scrape = e.getValue();
        case "prometheus_io_path" -> path = e.getValue();
        case "prometheus_io_port" -> port = e.getValue();
        case "prometheus_istio_io_scrape_targets" ->
            warnings.add(
                e.getKey()
                    + ": not built in Bosun: only prometheus.io/port is merged, the targets are"
                    + " dropped");
        default -> {}
      }
    }
    if (target.equals(port)) {
      return;
    }
    if (port != null && !port.isEmpty()) {
      int number;
      try {
        number = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        number = -1;
      }
      if (number < 1 || number > 65535) {
        throw new IllegalArgumentException(
            "prometheus.io/port: \"" + port + "\" (expected: a port number 1-65535)");
      }
      if (Integer.toString(number).equals(target)) {
        throw new IllegalArgumentException(
            "prometheus.io/port: \"" + port + "\" (expected: not the agent's port " + target + ")");
      }
    }
    if (proxy != null
        && !(scrape.isEmpty() && path.isEmpty() && (port == null || port.isEmpty()))) {
      ObjectNode config = IstioJson.json().createObjectNode();
      config.put("scrape", scrape).put("path", path).put("port", port == null ? "" : port);
      proxy.getEnv().add(ProxyParts.env(ENV, config.toString()));
    }
    for (String key : new ArrayList<>(annotations.keySet())) {
      if (CLEARED.contains(sanitize(key))) {
        annotations.remove(key);
      }
    }
    annotations.put("prometheus.io/port", target);
    annotations.put("prometheus.io/path", "/stats/prometheus");
    annotations.put("prometheus.io/scrape", "true");
  }

  /** Scraping unless a scrape annotation says a Go boolean false. */
  private static boolean scrape(Map<String, String> annotations) {
    for (Map.Entry<String, String> e : annotations.entrySet()) {
      if (sanitize(e.getKey()).equals("prometheus_io_scrape")) {
        Boolean value = Booleans.parse(e.getValue());
        if (value != null) {
          return value;
        }
      }
    }
    return true;
  }

  private static boolean enabled(Map<String, String> annotations, boolean meshDefault) {
    Boolean value = Booleans.parse(annotations.getOrDefault(SidecarAnnotations.MERGE_METRICS, ""));
    return value == null ? meshDefault : value;
  }

  /**
   * A Prometheus label name: every character but letters, digits and {@code _} becomes {@code _}.
   */
  private static String sanitize(String name) {
    return name.replaceAll("[^a-zA-Z0-9_]", "_");
  }
}
