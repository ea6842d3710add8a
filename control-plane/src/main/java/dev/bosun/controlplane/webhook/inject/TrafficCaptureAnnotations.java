package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import dev.bosun.controlplane.webhook.inject.InjectionSettings.TrafficDefaults;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The traffic capture a pod asks for: each {@code traffic.sidecar.istio.io/*} annotation or the
 * mesh default, and the checks istiod makes of the annotations it reads before injecting (a pod
 * with a bad value is not injected, with the reason).
 */
public record TrafficCaptureAnnotations(
    String interceptionMode,
    String includeIPRanges,
    String excludeIPRanges,
    String includeInboundPorts,
    String excludeInboundPorts,
    String includeOutboundPorts,
    String excludeOutboundPorts,
    String statusPort) {

  private static final Pattern QUANTITY =
      Pattern.compile(
          "^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$");
  private static final Pattern INTERFACE = Pattern.compile("^[^\\s/:]{1,15}$");

  /** What the pod's annotations resolve to over {@code defaults}. */
  public static TrafficCaptureAnnotations of(
      PodFacts pod, TrafficDefaults defaults, String meshInterceptionMode, int statusPort) {
    return new TrafficCaptureAnnotations(
        pod.annotation(INTERCEPTION_MODE, meshInterceptionMode),
        pod.annotation(INCLUDE_OUTBOUND_IP_RANGES, defaults.includeIPRanges()),
        pod.annotation(EXCLUDE_OUTBOUND_IP_RANGES, defaults.excludeIPRanges()),
        pod.annotation(INCLUDE_INBOUND_PORTS, defaults.includeInboundPorts()),
        pod.annotation(EXCLUDE_INBOUND_PORTS, defaults.excludeInboundPorts()),
        pod.annotation(INCLUDE_OUTBOUND_PORTS, defaults.includeOutboundPorts()),
        pod.annotation(EXCLUDE_OUTBOUND_PORTS, defaults.excludeOutboundPorts()),
        pod.annotation(STATUS_PORT, Integer.toString(statusPort)));
  }

  /**
   * The inbound ports not captured, with the status port added unless it is {@code 0} or listed
   * already (istiod's {@code excludeInboundPort}).
   */
  public String excludedInboundPortsWithStatusPort() {
    String port = statusPort.trim();
    if (port.isEmpty() || port.equals("0")) {
      return excludeInboundPorts;
    }
    List<String> ports = new ArrayList<>();
    for (String p : excludeInboundPorts.split(",", -1)) {
      if (p.equals(port)) {
        return excludeInboundPorts;
      }
      if (!p.trim().isEmpty()) {
        ports.add(p.trim());
      }
    }
    ports.add(port);
    return String.join(",", ports);
  }

  /**
   * Each annotation istiod checks that has a bad value, as {@code annotation: value (expected:
   * ...)}, in annotation name order; empty when all are good.
   */
  public static List<String> problems(Map<String, String> annotations) {
    Map<String, Check> checks =
        Map.ofEntries(
            Map.entry(
                INTERCEPTION_MODE,
                new Check(
                    v -> List.of("REDIRECT", "TPROXY", "NONE").contains(v),
                    "REDIRECT, TPROXY or NONE")),
            Map.entry(
                STATUS_PORT, new Check(TrafficCaptureAnnotations::port, "a port number 0-65535")),
            Map.entry(
                READINESS_INITIAL_DELAY,
                new Check(TrafficCaptureAnnotations::uint32, "a whole number of seconds")),
            Map.entry(
                READINESS_PERIOD,
                new Check(TrafficCaptureAnnotations::uint32, "a whole number of seconds")),
            Map.entry(
                READINESS_FAILURE_THRESHOLD,
                new Check(TrafficCaptureAnnotations::uint32, "a whole number")),
            Map.entry(
                INCLUDE_OUTBOUND_IP_RANGES,
                new Check(v -> v.equals("*") || cidrs(v), "* or a comma-separated list of CIDRs")),
            Map.entry(
                EXCLUDE_OUTBOUND_IP_RANGES,
                new Check(TrafficCaptureAnnotations::cidrs, "a comma-separated list of CIDRs")),
            Map.entry(
                INCLUDE_INBOUND_PORTS,
                new Check(v -> v.equals("*") || ports(v), "* or a comma-separated list of ports")),
            Map.entry(
                EXCLUDE_INBOUND_PORTS,
                new Check(TrafficCaptureAnnotations::ports, "a comma-separated list of ports")),
            Map.entry(
                EXCLUDE_OUTBOUND_PORTS,
                new Check(TrafficCaptureAnnotations::ports, "a comma-separated list of ports")),
            Map.entry(
                EXCLUDE_INTERFACES,
                new Check(
                    TrafficCaptureAnnotations::interfaces,
                    "a comma-separated list of interface names")),
            Map.entry(
                KUBEVIRT_INTERFACES,
                new Check(
                    TrafficCaptureAnnotations::interfaces,
                    "a comma-separated list of interface names")),
            Map.entry(
                REROUTE_VIRTUAL_INTERFACES,
                new Check(
                    TrafficCaptureAnnotations::interfaces,
                    "a comma-separated list of interface names")),
            Map.entry(MERGE_METRICS, new Check(v -> Booleans.parse(v) != null, "true or false")),
            Map.entry(
                PROXY_CPU,
                new Check(
                    TrafficCaptureAnnotations::quantity, "a Kubernetes quantity such as 100m")),
            Map.entry(
                PROXY_MEMORY,
                new Check(
                    TrafficCaptureAnnotations::quantity, "a Kubernetes quantity such as 128Mi")),
            Map.entry(
                PROXY_CPU_LIMIT,
                new Check(TrafficCaptureAnnotations::quantity, "a Kubernetes quantity such as 2")),
            Map.entry(
                PROXY_MEMORY_LIMIT,
                new Check(
                    TrafficCaptureAnnotations::quantity, "a Kubernetes quantity such as 1Gi")));
    List<String> problems = new ArrayList<>();
    new TreeMap<>(annotations)
        .forEach(
            (name, value) -> {
              Check check = checks.get(name);
              if (check != null && !check.valid().test(value)) {
                problems.add(name + ": \"" + value + "\" (expected: " + check.expected() + ")");
              }
            });
    return problems;
  }

  private record Check(Predicate<String> valid, String expected) {}

  private static boolean uint32(String value) {
    try {
      return Long.parseLong(value) >= 0 && Long.parseLong(value) <= 0xFFFFFFFFL;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static boolean port(String value) {
    try {
      int port = Integer.parseInt(value.trim());
      return port >= 0 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static boolean ports(String value) {
    if (value.trim().isEmpty()) {
      return true;
    }
    for (String p : value.trim().split(",", -1)) {
      if (!port(p)) {
        return false;
      }
    }
    return true;
  }

  private static boolean cidrs(String value) {
    if (value.isEmpty()) {
      return true;
    }
    for (String cidr : value.split(",", -1)) {
      if (!cidr(cidr)) {
        return false;
      }
    }
    return true;
  }

  /** A CIDR as Go's netip.ParsePrefix takes it: a literal address, a slash, a prefix length. */
  private static boolean cidr(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String address = cidr.substring(0, slash);
    boolean v6 = address.contains(":");
    if (!(v6 ? address.matches("[0-9a-fA-F:.]+") : address.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
      return false;
    }
    try {
      InetAddress.getByName(address);
      int bits = Integer.parseInt(cidr.substring(slash + 1));
      return bits >= 0 && bits <= (v6 ? 128 : 32);
    } catch (java.io.IOException | NumberFormatException e) {
      return false;
    }
  }

  private static boolean interfaces(String value) {
    for (String name : value.split(",", -1)) {
      if (!name.trim().isEmpty() && !INTERFACE.matcher(name.trim()).matches()) {
        return false;
      }
    }
    return true;
  }

  private static boolean quantity(String value) {
    return QUANTITY.matcher(value).matches();
  }
}
