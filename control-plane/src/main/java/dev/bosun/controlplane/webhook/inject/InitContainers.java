package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sidecar template's traffic-capture init container: {@code istio-init}, which runs {@code
 * istio-iptables} with NET_ADMIN to redirect the pod's traffic through Envoy, or, when the Istio
 * CNI node agent has done that already, the unprivileged {@code istio-validation}, which only
 * checks it.
 */
final class InitContainers {
  private InitContainers() {}

  static Container render(TemplateInput in) {
    boolean cni = in.settings().cni();
    List<EnvVar> env = ProxyParts.metadataEnv(in);
    ContainerBuilder init =
        new ContainerBuilder()
            .withName(cni ? VALIDATION_CONTAINER : INIT_CONTAINER)
            .withImage(in.proxyInitImage())
            .withArgs(args(in))
            .withEnv(env.isEmpty() ? null : env)
            .withResources(ProxyParts.resources(in))
            .withSecurityContext(securityContext(in));
    if (!in.settings().images().pullPolicy().isEmpty()) {
      init.withImagePullPolicy(in.settings().images().pullPolicy());
    }
    return init.build();
  }

  /** {@code istio-iptables} with the pod's capture ranges and ports, flag by flag as istiod. */
  private static List<String> args(TemplateInput in) {
    TrafficCaptureAnnotations traffic = in.traffic();
    PodFacts pod = in.pod();
    List<String> args =
        new ArrayList<>(
            List.of(
                "istio-iptables",
                "-p",
                "15001",
                "-z",
                "15006",
                "-u",
                // The proxy's uid, whose traffic is not captured; 1337 also under TPROXY.
                "1337",
                "-m",
                traffic.interceptionMode(),
                "-i",
                traffic.includeIPRanges(),
                "-x",
                traffic.excludeIPRanges(),
                "-b",
                traffic.includeInboundPorts(),
                "-d"));
    String excluded = traffic.excludedInboundPortsWithStatusPort();
    args.add(excluded.isEmpty() ? "15090,15021" : "15090,15021," + excluded);
    if (pod.annotations().containsKey(INCLUDE_OUTBOUND_PORTS)
        || !in.settings().proxy().traffic().includeOutboundPorts().isEmpty()) {
      args.add("-q");
      args.add(traffic.includeOutboundPorts());
    }
    if (pod.annotations().containsKey(EXCLUDE_OUTBOUND_PORTS)
        || !in.settings().proxy().traffic().excludeOutboundPorts().isEmpty()) {
      args.add("-o");
      args.add(traffic.excludeOutboundPorts());
    }
    if (pod.annotations().containsKey(REROUTE_VIRTUAL_INTERFACES)) {
      args.add("-k");
      args.add(pod.annotations().get(REROUTE_VIRTUAL_INTERFACES));
    } else if (pod.annotations().containsKey(KUBEVIRT_INTERFACES)) {
      args.add("-k");
      args.add(pod.annotations().get(KUBEVIRT_INTERFACES));
    }
    if (pod.annotations().containsKey(EXCLUDE_INTERFACES)) {
      args.add("-c");
      args.add(pod.annotations().get(EXCLUDE_INTERFACES));
    }
    args.add("--log_output_level=" + ProxyParts.agentLogLevel(in));
    if (in.settings().cni()) {
      args.add("--run-validation");
      args.add("--skip-rule-apply");
    }
    return args;
  }

  /** Root with NET_ADMIN and NET_RAW for iptables; with CNI, the proxy's user and nothing more. */
  private static SecurityContext securityContext(TemplateInput in) {
    boolean privileged = in.settings().proxy().privileged();
    SecurityContextBuilder context =
        new SecurityContextBuilder()
            .withAllowPrivilegeEscalation(privileged)
            .withPrivileged(privileged);
    if (!in.settings().cni()) {
      return context
          .withNewCapabilities()
          .withAdd("NET_ADMIN", "NET_RAW")
          .withDrop("ALL")
          .endCapabilities()
          .withReadOnlyRootFilesystem(false)
          .withRunAsGroup(0L)
          .withRunAsNonRoot(false)
          .withRunAsUser(0L)
          .build();
    }
    return context
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .withReadOnlyRootFilesystem(true)
        .withRunAsGroup(1337L)
        .withRunAsUser(1337L)
        .withRunAsNonRoot(true)
        .build();
  }

  /**
   * With CNI, the capture settings travel to the node agent as pod annotations, each the pod's own
   * or the default.
   */
  static Map<String, String> cniAnnotations(TemplateInput in) {
    TrafficCaptureAnnotations traffic = in.traffic();
    PodFacts pod = in.pod();
    var defaults = in.settings().proxy().traffic();
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(INTERCEPTION_MODE, traffic.interceptionMode());
    if (!traffic.includeIPRanges().isEmpty()) {
      annotations.put(INCLUDE_OUTBOUND_IP_RANGES, traffic.includeIPRanges());
    }
    if (!traffic.excludeIPRanges().isEmpty()) {
      annotations.put(EXCLUDE_OUTBOUND_IP_RANGES, traffic.excludeIPRanges());
    }
    annotations.put(INCLUDE_INBOUND_PORTS, traffic.includeInboundPorts());
    annotations.put(EXCLUDE_INBOUND_PORTS, traffic.excludedInboundPortsWithStatusPort());
    if (pod.annotations().containsKey(INCLUDE_OUTBOUND_PORTS)
        || !defaults.includeOutboundPorts().isEmpty()) {
      annotations.put(INCLUDE_OUTBOUND_PORTS, traffic.includeOutboundPorts());
    }
    if (pod.annotations().containsKey(EXCLUDE_OUTBOUND_PORTS)
        || !defaults.excludeOutboundPorts().isEmpty()) {
      annotations.put(EXCLUDE_OUTBOUND_PORTS, traffic.excludeOutboundPorts());
    }
    for (String copied :
        List.of(KUBEVIRT_INTERFACES, REROUTE_VIRTUAL_INTERFACES, EXCLUDE_INTERFACES)) {
      String value = pod.annotations().get(copied);
      if (value != null && !value.isEmpty()) {
        annotations.put(copied, value);
      }
    }
    return annotations;
  }
}
