package dev.bosun.crd.validation;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** Sidecar rules: egress host scoping, ingress listeners, outbound traffic policy. */
final class SidecarValidator implements SpecValidator {
  private static final Pattern DEFAULT_ENDPOINT =
      Pattern.compile("(127\\.0\\.0\\.1|0\\.0\\.0\\.0|\\[::1\\]|\\[::\\]):([0-9]{1,5})");

  @Override
  public void validate(DocNode spec, Problems out) {
    if (!spec.field("egress").hasContent()
        && !spec.field("ingress").hasContent()
        && !spec.field("outboundTrafficPolicy").isSet()
        && !spec.field("inboundConnectionPool").isSet()) {
      out.add(
          spec.path(),
          "is empty (expected: at least one of egress, ingress, outboundTrafficPolicy, inboundConnectionPool)");
    }
    Rules.labels(spec.field("workloadSelector").field("labels"), out);
    List<DocNode> egress = spec.field("egress").items();
    for (int i = 0; i < egress.size(); i++) {
      DocNode listener = egress.get(i);
      if (!listener.field("port").isSet() && i != egress.size() - 1) {
        out.add(
            listener.path(),
            "has no port but is not the last egress listener (expected: the catch-all listener last)");
      }
      port(listener.field("port"), out);
      if (listener.field("hosts").isSet() && !listener.field("hosts").hasContent()) {
        out.missing(listener.field("hosts").path(), "at least one \"<namespace>/<host>\"");
      }
      for (DocNode host : listener.field("hosts").strings()) {
        String value = host.text();
        int slash = value == null ? -1 : value.indexOf('/');
        if (value != null && value.startsWith("~") && slash > 1) {
          // istiod's exclusion ~<namespace>/<host>: the namespace part is read as for imports.
          Rules.namespacedHost(
              DocNode.of(
                  new com.fasterxml.jackson.databind.node.TextNode(value.substring(1)),
                  host.path()),
              List.of(".", "*"),
              true,
              out);
        } else {
          Rules.namespacedHost(host, List.of(".", "*", "~"), true, out);
        }
      }
    }
    Set<Long> ingressPorts = new HashSet<>();
    for (DocNode listener : spec.field("ingress").items()) {
      DocNode number = listener.field("port").field("number");
      port(listener.field("port"), out);
      if (number.isNumber() && !ingressPorts.add(number.asLong())) {
        out.invalid(number.path(), number.value(), "duplicate ingress port", "each port once");
      }
      String endpoint = listener.field("defaultEndpoint").text();
      if (endpoint != null && !endpoint.isEmpty() && !endpoint.startsWith("unix://")) {
        var matcher = DEFAULT_ENDPOINT.matcher(endpoint);
        if (!matcher.matches()
            || Integer.parseInt(matcher.group(2)) < 1
            || Integer.parseInt(matcher.group(2)) > 65535) {
          out.invalid(
              listener.field("defaultEndpoint").path(),
              endpoint,
              "127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or unix:///path");
        }
      }
      TrafficPolicyRules.connectionPool(listener.field("connectionPool"), out);
    }
    TrafficPolicyRules.connectionPool(spec.field("inboundConnectionPool"), out);
    DocNode egressProxy = spec.field("outboundTrafficPolicy").field("egressProxy");
    VirtualServiceValidator.destination(egressProxy, out);
  }

  private static void port(DocNode port, Problems out) {
    Rules.port(port.field("number"), out);
    Rules.port(port.field("targetPort"), out);
    String protocol = port.field("protocol").text();
    if (protocol != null
        && !ServiceEntryValidator.PROTOCOLS.contains(protocol.toUpperCase(java.util.Locale.ROOT))) {
      out.invalid(
          port.field("protocol").path(),
          protocol,
          "a protocol such as HTTP, HTTP2, GRPC, TCP or TLS");
    }
  }
}
