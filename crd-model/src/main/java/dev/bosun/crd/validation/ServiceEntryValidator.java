package dev.bosun.crd.validation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** ServiceEntry rules: hosts, addresses, ports, resolution and endpoints. */
final class ServiceEntryValidator implements SpecValidator {
  static final Set<String> PROTOCOLS =
      Set.of(
          "HTTP",
          "HTTPS",
          "GRPC",
          "GRPC-WEB",
          "HTTP2",
          "MONGO",
          "REDIS",
          "MYSQL",
          "TCP",
          "TLS",
          "UDP");

  @Override
  public void validate(DocNode spec, Problems out) {
    DocNode hosts = spec.field("hosts");
    if (hosts.isSet() && !hosts.hasContent()) {
      out.missing(hosts.path(), "at least one host");
    }
    String resolution = spec.field("resolution").text();
    boolean dns = "DNS".equals(resolution) || "DNS_ROUND_ROBIN".equals(resolution);
    boolean hasEndpoints = spec.field("endpoints").hasContent();
    for (DocNode host : hosts.strings()) {
      Rules.host(host, false, out);
      if (dns && !hasEndpoints && host.text().startsWith("*")) {
        out.invalid(
            host.path(),
            host.text(),
            "wildcard host with " + resolution + " resolution and no endpoints",
            "a fully qualified host name");
      }
    }
    for (DocNode address : spec.field("addresses").strings()) {
      Rules.ipOrCidr(address, out);
      if (Rules.isCidr(address.text()) && dns) {
        out.invalid(
            address.path(),
            address.text(),
            "CIDR with " + resolution + " resolution",
            "a single IP, or resolution NONE or STATIC");
      }
    }
    Rules.exportTo(spec.field("exportTo"), true, out);
    Rules.labels(spec.field("workloadSelector").field("labels"), out);
    Set<String> portNames = ports(spec.field("ports"), out);
    if (hasEndpoints && spec.field("workloadSelector").isSet()) {
      out.add(spec.path(), "sets both endpoints and workloadSelector (expected: at most one)");
    }
    if ((resolution == null || "NONE".equals(resolution)) && hasEndpoints) {
      out.add(
          spec.field("endpoints").path(),
          "set with resolution NONE (expected: no endpoints, or resolution STATIC or DNS)");
    }
    if ("DNS_ROUND_ROBIN".equals(resolution) && spec.field("endpoints").items().size() > 1) {
      out.add(
          spec.field("endpoints").path(),
          "has "
              + spec.field("endpoints").items().size()
              + " endpoints (expected: at most one with DNS_ROUND_ROBIN)");
    }
    for (DocNode endpoint : spec.field("endpoints").items()) {
      workloadEndpoint(endpoint, "STATIC".equals(resolution), portNames, out);
    }
  }

  private static Set<String> ports(DocNode ports, Problems out) {
    Set<String> names = new HashSet<>();
    Map<Long, FieldPath> numbers = new HashMap<>();
    for (DocNode port : ports.items()) {
      DocNode number = port.field("number");
      Rules.port(number, out);
      Rules.port(port.field("targetPort"), out);
      if (number.isNumber() && numbers.putIfAbsent(number.asLong(), port.path()) != null) {
        out.invalid(
            number.path(), number.value(), "duplicate port number", "each port number once");
      }
      String name = port.field("name").text();
      if (name != null) {
        Rules.portName(port.field("name"), out);
        if (!names.add(name)) {
          out.invalid(
              port.field("name").path(), name, "duplicate port name", "each port name once");
        }
      }
      String protocol = port.field("protocol").text();
      if (protocol != null && !PROTOCOLS.contains(protocol.toUpperCase(Locale.ROOT))) {
        out.invalid(
            port.field("protocol").path(),
            protocol,
            "one of " + String.join(", ", new java.util.TreeSet<>(PROTOCOLS)));
      }
    }
    return names;
  }

  /** An endpoint of a ServiceEntry, or a WorkloadEntry spec: same fields, same rules. */
  static void workloadEndpoint(
      DocNode endpoint, boolean requireIp, Set<String> portNames, Problems out) {
    DocNode address = endpoint.field("address");
    String value = address.text();
    if (value == null && !endpoint.field("network").hasContent()) {
      out.missing(address.path(), "an IP address, host name or unix:// socket path (or a network)");
    } else if (value != null) {
      if (value.startsWith("unix://")) {
        if (endpoint.field("ports").hasContent()) {
          out.add(
              endpoint.field("ports").path(),
              "set for a unix:// address (expected: no ports for a unix domain socket)");
        }
        String path = value.substring("unix://".length());
        if (path.isEmpty()
            || !(path.startsWith("/") || path.startsWith("@"))
            || path.endsWith("/")) {
          out.invalid(
              address.path(),
              value,
              "unix:// followed by an absolute socket path or @abstract name");
        }
      } else if (requireIp && !Rules.isIp(value)) {
        out.invalid(address.path(), value, "an IP address (resolution STATIC)");
      } else if (!Rules.isIp(value) && !Rules.isDnsSubdomain(value.toLowerCase(Locale.ROOT))) {
        out.invalid(address.path(), value, "an IP address, a host name or a unix:// socket path");
      }
    }
    for (Map.Entry<String, DocNode> port : endpoint.field("ports").entries()) {
      Rules.port(port.getValue(), out);
      if (portNames != null && !portNames.contains(port.getKey())) {
        out.invalid(
            endpoint.field("ports").path(),
            port.getKey(),
            "undeclared port name",
            "one of the ServiceEntry's port names " + new java.util.TreeSet<>(portNames));
      }
    }
    Rules.labels(endpoint.field("labels"), out);
    String serviceAccount = endpoint.field("serviceAccount").text();
    if (serviceAccount != null && !Rules.isDnsSubdomain(serviceAccount)) {
      out.invalid(
          endpoint.field("serviceAccount").path(), serviceAccount, "a service account name");
    }
  }
}
