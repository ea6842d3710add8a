package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes label selectors over pod labels, as istiod's {@code neverInjectSelector} and {@code
 * alwaysInjectSelector} hold them: {@code matchLabels} and {@code matchExpressions} ({@code In},
 * {@code NotIn}, {@code Exists}, {@code DoesNotExist}), all of which must hold. An empty selector
 * matches nothing here, as istiod skips empty ones.
 */
public final class PodSelectors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<LabelSelector> selectors;

  private PodSelectors(List<LabelSelector> selectors) {
    this.selectors = List.copyOf(selectors);
  }

  /** No selectors. */
  public static final PodSelectors NONE = new PodSelectors(List.of());

  /**
   * Selectors from a JSON (or YAML flow) list such as {@code [{"matchLabels": {"app": "db"}}]}.
   *
   * @param field what to name in an error, e.g. {@code --never-inject-selector}
   * @throws IllegalArgumentException naming the field, the bad value and what is expected
   */
  public static PodSelectors parse(String field, String json) {
    JsonNode list;
    try {
      list = JSON.readTree(json.isBlank() ? "[]" : json);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          field + ": " + json + " (expected: a JSON list of label selectors)", e);
    }
    if (!list.isArray()) {
      throw new IllegalArgumentException(
          field + ": " + json + " (expected: a JSON list of label selectors)");
    }
    List<LabelSelector> selectors = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String at = field + "[" + i + "]";
      LabelSelector selector;
      try {
        selector = JSON.treeToValue(list.get(i), LabelSelector.class);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException(
            at + ": " + list.get(i) + " (expected: matchLabels and matchExpressions)", e);
      }
      check(at, selector);
      selectors.add(selector);
    }
    return new PodSelectors(selectors);
  }

  private static void check(String at, LabelSelector selector) {
    List<LabelSelectorRequirement> requirements =
        selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
    for (int j = 0; j < requirements.size(); j++) {
      LabelSelectorRequirement requirement = requirements.get(j);
      String where = at + ".matchExpressions[" + j + "]";
      String operator = String.valueOf(requirement.getOperator());
      boolean hasValues = requirement.getValues() != null && !requirement.getValues().isEmpty();
      switch (operator) {
        case "In", "NotIn" -> {
          if (!hasValues) {
            throw new IllegalArgumentException(
                where + ".values: [] (expected: at least one value for " + operator + ")");
          }
        }
        case "Exists", "DoesNotExist" -> {
          if (hasValues) {
            throw new IllegalArgumentException(
                where
                    + ".values: "
                    + requirement.getValues()
                    + " (expected: none for "
                    + operator
                    + ")");
          }
        }
        default ->
            throw new IllegalArgumentException(
                where
                    + ".operator: \""
                    + operator
                    + "\" (expected: In, NotIn, Exists or DoesNotExist)");
      }
      if (requirement.getKey() == null || requirement.getKey().isEmpty()) {
        throw new IllegalArgumentException(where + ".key: \"\" (expected: a label key)");
      }
    }
  }

  /** Whether any non-empty selector matches {@code labels}. */
  public boolean anyMatches(Map<String, String> labels) {
    return selectors.stream().anyMatch(s -> !empty(s) && matches(s, labels));
  }

  private static boolean empty(LabelSelector selector) {
    return (selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty())
        && (selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty());
  }

  private static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> wanted : selector.getMatchLabels().entrySet()) {
        if (!wanted.getValue().equals(labels.get(wanted.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement requirement : selector.getMatchExpressions()) {
        String value = labels.get(requirement.getKey());
        boolean holds =
            switch (requirement.getOperator()) {
              case "In" -> value != null && requirement.getValues().contains(value);
              case "NotIn" -> value == null || !requirement.getValues().contains(value);
              case "Exists" -> value != null;
              default -> value == null; // DoesNotExist; parse() admits nothing else
            };
        if (!holds) {
          return false;
        }
      }
    }
    return true;
  }
}
