package dev.bosun.crd.validation;

import java.util.Map;

/** PeerAuthentication rules: selectors and port-level mTLS. */
final class PeerAuthenticationValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    DocNode matchLabels = spec.field("selector").field("matchLabels");
    Rules.labels(matchLabels, out);
    DocNode portLevel = spec.field("portLevelMtls");
    if (!portLevel.isSet()) {
      return;
    }
    if (!matchLabels.hasContent()) {
      out.add(
          portLevel.path(),
          "set on a mesh- or namespace-wide policy (expected: portLevelMtls only with"
              + " spec.selector.matchLabels selecting workloads)");
    }
    if (!portLevel.hasContent()) {
      out.missing(portLevel.path(), "at least one port, or no portLevelMtls");
    }
    for (Map.Entry<String, DocNode> entry : portLevel.entries()) {
      long port;
      try {
        port = Long.parseLong(entry.getKey());
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        out.invalid(
            portLevel.path(), entry.getKey(), "invalid port key", "a port number in 1-65535");
      }
    }
  }
}
