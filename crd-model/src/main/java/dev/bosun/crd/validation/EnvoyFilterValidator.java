package dev.bosun.crd.validation;

import java.util.Set;

/**
 * EnvoyFilter rules, as istiod's webhook enforces them: every patch says what it applies to, what
 * it does and (but for REMOVE) with what value; a match fits the class of object patched; a
 * proxy-version match compiles. Whether a patch's value is a valid Envoy message of its type is not
 * checked yet.
 */
final class EnvoyFilterValidator implements SpecValidator {
  private static final Set<String> LISTENER_CLASS =
      Set.of("LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER");
  private static final Set<String> ROUTE_CLASS =
      Set.of("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE");
  private static final Set<String> CONNECTION_MANAGERS =
      Set.of("envoy.filters.network.http_connection_manager", "envoy.http_connection_manager");

  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.labels(spec.field("workloadSelector").field("labels"), out);
    if (spec.field("workloadSelector").isSet() && spec.field("targetRefs").isSet()) {
      out.add(spec.path(), "sets both workloadSelector and targetRefs (expected: at most one)");
    }
    for (DocNode patch : spec.field("configPatches").items()) {
      configPatch(patch, out);
    }
  }

  private static void configPatch(DocNode patch, Problems out) {
    DocNode match = patch.field("match");
    String applyTo = patch.field("applyTo").text();
    if (applyTo == null || applyTo.equals("INVALID")) {
      out.missing(patch.field("applyTo").path(), "what the patch applies to, such as HTTP_FILTER");
      return;
    }
    DocNode operation = patch.field("patch").field("operation");
    if (!patch.field("patch").isSet()) {
      out.missing(patch.field("patch").path(), "the patch: an operation and a value");
      return;
    }
    if (operation.text() == null || operation.text().equals("INVALID")) {
      out.missing(operation.path(), "a patch operation such as MERGE or INSERT_BEFORE");
      return;
    }
    if (!operation.text().equals("REMOVE") && !patch.field("patch").field("value").isSet()) {
      out.missing(
          patch.field("patch").field("value").path(), "a value for operation " + operation.text());
    }
    Rules.regex(match.field("proxy").field("proxyVersion"), out);
    boolean listener = match.field("listener").isSet();
    boolean route = match.field("routeConfiguration").isSet();
    boolean cluster = match.field("cluster").isSet();
    boolean typed = listener || route || cluster;
    if (LISTENER_CLASS.contains(applyTo)) {
      if (typed && !listener) {
        out.add(
            match.path(), "matches no listener (expected: a listener match for " + applyTo + ")");
        return;
      }
      filterMatch(match.field("listener").field("filterChain").field("filter"), applyTo, out);
    } else if (ROUTE_CLASS.contains(applyTo) && typed && !route) {
      out.add(
          match.path(),
          "matches no route configuration (expected: a routeConfiguration match for "
              + applyTo
              + ")");
    } else if (applyTo.equals("CLUSTER") && typed && !cluster) {
      out.add(match.path(), "matches no cluster (expected: a cluster match for CLUSTER)");
    }
  }

  private static void filterMatch(DocNode filter, String applyTo, Problems out) {
    if (!filter.isSet()) {
      return;
    }
    String name = filter.field("name").text();
    if (name == null || name.isEmpty()) {
      out.missing(filter.field("name").path(), "the name of the filter to match");
      return;
    }
    DocNode subFilter = filter.field("subFilter");
    if (!subFilter.isSet()) {
      return;
    }
    if (!applyTo.equals("HTTP_FILTER")) {
      out.add(
          subFilter.path(), "set with applyTo " + applyTo + " (expected: only with HTTP_FILTER)");
    } else if (!CONNECTION_MANAGERS.contains(name)) {
      out.invalid(
          filter.field("name").path(),
          name,
          "a subFilter match inside another filter",
          "envoy.filters.network.http_connection_manager");
    } else if (subFilter.field("name").text() == null || subFilter.field("name").text().isEmpty()) {
      out.missing(subFilter.field("name").path(), "the name of the HTTP filter to match");
    }
  }
}
