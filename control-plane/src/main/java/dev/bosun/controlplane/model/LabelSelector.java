package dev.bosun.controlplane.model;

import java.util.Map;

/**
 * Istio's label selection ({@code workloadSelector}, {@code selector.matchLabels}, subset {@code
 * labels}, a ServiceEntry's {@code workloadSelector}): every label of the selector with the same
 * value. An empty selector selects everything.
 */
public final class LabelSelector {
  private LabelSelector() {}

  /** Whether {@code labels} carry every label of {@code selector}. */
  public static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> label : selector.entrySet()) {
      if (!label.getValue().equals(labels.get(label.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
