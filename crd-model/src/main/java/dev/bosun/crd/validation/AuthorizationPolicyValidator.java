package dev.bosun.crd.validation;

import java.util.List;
import java.util.regex.Pattern;

/** AuthorizationPolicy rules: action and provider, sources, operations and conditions. */
final class AuthorizationPolicyValidator implements SpecValidator {
  private static final List<String> KEYS =
      List.of(
          "source.ip",
          "remote.ip",
          "source.namespace",
          "source.principal",
          "source.serviceAccount",
          "source.trustDomain",
          "request.auth.principal",
          "request.auth.audiences",
          "request.auth.presenter",
          "destination.ip",
          "destination.port",
          "connection.sni");

  private static final Pattern BRACKETED =
      Pattern.compile("(request\\.headers|request\\.auth\\.claims)\\[.+\\]");

  @Override
  public void validate(DocNode spec, Problems out) {
    String action = spec.field("action").text();
    DocNode rules = spec.field("rules");
    if ("DENY".equals(action) && !rules.hasContent()) {
      out.missing(
          rules.path(),
          "at least one rule for action DENY; a DENY policy without rules never matches, add an"
              + " empty rule {} to deny every request");
    }
    DocNode provider = spec.field("provider");
    if ("CUSTOM".equals(action) && !provider.field("name").hasContent()) {
      out.missing(provider.field("name").path(), "the extension provider for action CUSTOM");
    }
    if (provider.isSet() && !"CUSTOM".equals(action)) {
      out.add(
          provider.path(),
          "set with action "
              + (action == null ? "ALLOW" : action)
              + " (expected: provider only with action CUSTOM)");
    }
    Rules.selectorOrTargetRefs(spec, "selector", out);
    for (DocNode rule : rules.items()) {
      for (DocNode from : rule.field("from").items()) {
        source(from.field("source"), out);
      }
      for (DocNode to : rule.field("to").items()) {
        operation(to.field("operation"), out);
      }
      for (DocNode condition : rule.field("when").items()) {
        condition(condition, out);
      }
    }
  }

  private static void source(DocNode source, Problems out) {
    if (!source.hasContent()) {
      out.missing(source.path(), "at least one field such as principals, namespaces or ipBlocks");
      return;
    }
    for (String field :
        new String[] {"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"}) {
      source.field(field).strings().forEach(ip -> Rules.ipOrCidr(ip, out));
    }
    noEmptyValues(
        source,
        out,
        "principals",
        "notPrincipals",
        "requestPrincipals",
        "notRequestPrincipals",
        "namespaces",
        "notNamespaces");
    boolean serviceAccounts =
        source.field("serviceAccounts").hasContent()
            || source.field("notServiceAccounts").hasContent();
    boolean others =
        source.field("namespaces").hasContent()
            || source.field("notNamespaces").hasContent()
            || source.field("principals").hasContent()
            || source.field("notPrincipals").hasContent();
    if (serviceAccounts && others) {
      out.add(
          source.path(),
          "sets serviceAccounts with namespaces or principals (expected: one way of naming the source)");
    }
  }

  /**
   * An empty string in these lists matches nothing anyone can send (and reads as a typo); istiod
   * refuses it.
   */
  private static void noEmptyValues(DocNode parent, Problems out, String... fields) {
    for (String field : fields) {
      for (DocNode value : parent.field(field).strings()) {
        if (value.text().isEmpty()) {
          out.invalid(value.path(), "", "an empty value", "a non-empty " + field + " entry");
        }
      }
    }
  }

  private static void operation(DocNode operation, Problems out) {
    if (!operation.hasContent()) {
      out.missing(operation.path(), "at least one field such as methods, paths, ports or hosts");
      return;
    }
    for (String field : new String[] {"ports", "notPorts"}) {
      for (DocNode port : operation.field(field).strings()) {
        if (!Rules.isIntegerIn(port.text(), 1, 65535)) {
          out.invalid(port.path(), port.text(), "a port number in 1-65535");
        }
      }
    }
    noEmptyValues(operation, out, "methods", "notMethods", "hosts", "notHosts");
    for (String field : new String[] {"paths", "notPaths"}) {
      for (DocNode path : operation.field(field).strings()) {
        if (path.text().isEmpty()) {
          out.invalid(path.path(), "", "a path such as /api/*");
        }
      }
    }
  }

  private static void condition(DocNode condition, Problems out) {
    String key = condition.field("key").text();
    if (key != null
        && !KEYS.contains(key)
        && !BRACKETED.matcher(key).matches()
        && !key.startsWith("experimental.envoy.filters.")) {
      out.invalid(
          condition.field("key").path(),
          key,
          "unknown condition key",
          "one of "
              + String.join(", ", KEYS)
              + ", request.headers[<name>], request.auth.claims[<name>]");
    }
    if ("source.trustDomain".equals(key)) {
      // istiod: a trust domain has no "/", and a wildcard only at its start or end.
      for (String field : new String[] {"values", "notValues"}) {
        for (DocNode value : condition.field(field).strings()) {
          String text = value.text();
          int stars = text.length() - text.replace("*", "").length();
          boolean wildcardInside =
              stars > 1 || (stars == 1 && !text.startsWith("*") && !text.endsWith("*"));
          if (text.contains("/") || wildcardInside) {
            out.invalid(
                value.path(),
                text,
                "a trust domain such as cluster.local, with * only at its start or end");
          }
        }
      }
    }
    if (!condition.field("values").hasContent() && !condition.field("notValues").hasContent()) {
      out.missing(
          condition.field("values").path(),
          "values or notValues to compare " + (key == null ? "the key" : key) + " with");
    }
    for (String field : new String[] {"values", "notValues"}) {
      for (DocNode value : condition.field(field).strings()) {
        if (("source.ip".equals(key) || "remote.ip".equals(key) || "destination.ip".equals(key))) {
          Rules.ipOrCidr(value, out);
        } else if ("destination.port".equals(key) && !Rules.isIntegerIn(value.text(), 1, 65535)) {
          out.invalid(value.path(), value.text(), "a port number in 1-65535");
        }
      }
    }
  }
}
