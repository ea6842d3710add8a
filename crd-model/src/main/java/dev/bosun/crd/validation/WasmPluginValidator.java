package dev.bosun.crd.validation;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.Set;

/**
 * WasmPlugin rules, as istiod's webhook enforces them: one way of selecting workloads; a URL with a
 * scheme istiod fetches ({@code oci}, {@code http(s)}, {@code file}, or none); a 64-character
 * lower-case hex sha256; bounded names; unique env names, with a value only when it is INLINE;
 * match ports 1-65535.
 */
final class WasmPluginValidator implements SpecValidator {
  private static final Set<String> SCHEMES = Set.of("", "file", "http", "https", "oci");

  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.selectorOrTargetRefs(spec, "selector", out);
    url(spec.field("url"), out);
    DocNode sha = spec.field("sha256");
    if (sha.text() != null && !sha.text().isEmpty() && !sha.text().matches("[a-f0-9]{64}")) {
      out.invalid(sha.path(), sha.text(), "64 lower-case hex characters");
    }
    maxLength(spec.field("imagePullSecret"), 253, out);
    maxLength(spec.field("pluginName"), 256, out);
    Set<String> names = new HashSet<>();
    for (DocNode env : spec.field("vmConfig").field("env").items()) {
      String name = env.field("name").text();
      if (name == null || name.isEmpty()) {
        out.missing(env.field("name").path(), "an environment variable name");
        continue;
      }
      maxLength(env.field("name"), 256, out);
      if (!names.add(name)) {
        out.invalid(env.field("name").path(), name, "duplicate env", "each name once");
      }
      String from = env.field("valueFrom").text();
      if (from != null && !from.equals("INLINE") && env.field("value").hasContent()) {
        out.add(
            env.field("value").path(),
            "set with valueFrom " + from + " (expected: a value only with valueFrom INLINE)");
      }
    }
    for (DocNode match : spec.field("match").items()) {
      for (DocNode port : match.field("ports").items()) {
        DocNode number = port.field("number");
        if (!number.isNumber()) {
          out.missing(number.path(), "a port number in 1-65535");
        } else {
          Rules.port(number, out);
        }
      }
    }
  }

  private static void url(DocNode url, Problems out) {
    String value = url.text();
    if (value == null || value.isEmpty()) {
      out.missing(url.path(), "the plugin's URL, such as oci://registry/plugin:tag");
      return;
    }
    String scheme;
    try {
      URI parsed = new URI(value);
      scheme = parsed.getScheme() == null ? "" : parsed.getScheme();
    } catch (URISyntaxException e) {
      out.invalid(url.path(), value, "not a URL: " + e.getReason(), "oci://, https://, file://");
      return;
    }
    if (!SCHEMES.contains(scheme)) {
      out.invalid(url.path(), value, "unsupported scheme " + scheme, "oci, http, https or file");
    }
  }

  private static void maxLength(DocNode node, int max, Problems out) {
    if (node.text() != null && node.text().length() > max) {
      out.invalid(
          node.path(),
          node.text(),
          node.text().length() + " characters long",
          "at most " + max + " characters");
    }
  }
}
