package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.ProxyParts.*;
import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Lifecycle;
import io.fabric8.kubernetes.api.model.LifecycleBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * istiod's {@code sidecar} template for the stock {@code istio/proxyv2} image: Envoy and
 * pilot-agent in {@code istio-proxy}, traffic captured by the {@code istio-init} iptables container
 * (or checked by {@code istio-validation} when the CNI agent captures it), with the volumes the
 * agent expects.
 */
public final class SidecarTemplate implements InjectionTemplate {
  public static final String NAME = "sidecar";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pod render(TemplateInput in) {
    boolean capture = !in.traffic().interceptionMode().equals("NONE");
    List<Container> inits = new ArrayList<>();
    if (capture) {
      inits.add(InitContainers.render(in));
    }
    Container proxy = proxy(in);
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withLabels(labels(in))
            .withAnnotations(annotations(in))
            .endMetadata()
            .withNewSpec()
            .withVolumes(envoyVolumes(in, true))
            .endSpec();
    if (in.nativeSidecar()) {
      inits.add(proxy);
      pod.editSpec().withInitContainers(inits).endSpec();
    } else {
      pod.editSpec().withInitContainers(inits).withContainers(proxy).endSpec();
    }
    return pod.build();
  }

  private static Map<String, String> labels(TemplateInput in) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_TLS_MODE, in.pod().firstLabel("istio", LABEL_TLS_MODE));
    if ("true".equals(in.proxyMetadata().get("ISTIO_META_ENABLE_HBONE"))) {
      labels.put(LABEL_TUNNEL, in.pod().firstLabel("http", LABEL_TUNNEL));
    }
    labels.putAll(canonicalLabels(in.pod(), true));
    return labels;
  }

  private static Map<String, String> annotations(TemplateInput in) {
    Map<String, String> annotations = commonAnnotations(in);
    if (in.settings().cni()) {
      annotations.putAll(InitContainers.cniAnnotations(in));
    }
    return annotations;
  }

  private static Container proxy(TemplateInput in) {
    var proxy = in.settings().proxy();
    String statusPort = in.traffic().statusPort();
    ContainerBuilder container =
        new ContainerBuilder()
            .withName(PROXY_CONTAINER)
            .withImage(in.proxyImage())
            .addNewPort()
            .withContainerPort(15090)
            .withProtocol("TCP")
            .withName("http-envoy-prom")
            .endPort()
            .withArgs(agentArgs(in))
            .withLifecycle(lifecycle(in))
            .withEnv(proxyEnv(in))
            .withSecurityContext(securityContext(in))
            .withResources(resources(in))
            .withVolumeMounts(envoyMounts(in, true));
    if (in.nativeSidecar()) {
      container.withRestartPolicy("Always");
    }
    if (!in.settings().images().pullPolicy().isEmpty()) {
      container.withImagePullPolicy(in.settings().images().pullPolicy());
    }
    if (!statusPort.equals("0")) {
      if (proxy.startupProbe()) {
        container.withStartupProbe(readyProbe(0, 1, proxy.startupFailureThreshold()));
      }
      container.withReadinessProbe(readinessProbe(in, 15021));
    }
    return container.build();
  }

  /** Envoy's readiness on 15021; a zero delay is left out, as Kubernetes writes it. */
  private static Probe readyProbe(int initialDelay, int period, int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath("/healthz/ready")
        .withNewPort(15021)
        .endHttpGet()
        .withInitialDelaySeconds(initialDelay == 0 ? null : initialDelay)
        .withPeriodSeconds(period)
        .withTimeoutSeconds(3)
        .withFailureThreshold(failureThreshold)
        .build();
  }

  /**
   * Hold the app until the proxy is ready ({@code pilot-agent wait}); a native sidecar instead
   * drains on the pod's shutdown.
   */
  private static Lifecycle lifecycle(TemplateInput in) {
    if (in.holdApplicationUntilProxyStarts() && !in.nativeSidecar()) {
      return new LifecycleBuilder()
          .withNewPostStart()
          .withNewExec()
          .withCommand("pilot-agent", "wait")
          .endExec()
          .endPostStart()
          .build();
    }
    if (in.nativeSidecar()) {
      return new LifecycleBuilder()
          .withNewPreStop()
          .withNewExec()
          .withCommand(
              "pilot-agent",
              "request",
              "--debug-port=" + in.traffic().statusPort(),
              "POST",
              "drain")
          .endExec()
          .endPreStop()
          .build();
    }
    return null;
  }

  private static List<EnvVar> proxyEnv(TemplateInput in) {
    var mesh = in.settings().mesh();
    PodFacts pod = in.pod();
    List<EnvVar> env = new ArrayList<>(identityEnv(in));
    env.add(resourceEnv("ISTIO_CPU_LIMIT", "limits.cpu"));
    env.add(proxyConfigEnv(in));
    env.add(podPortsEnv(pod.allContainers()));
    env.add(appContainersEnv(in));
    env.add(resourceEnv("GOMEMLIMIT", "limits.memory"));
    env.add(
        env("ISTIO_META_CLUSTER_ID", mesh.clusterId().isEmpty() ? "Kubernetes" : mesh.clusterId()));
    env.add(fieldEnv("ISTIO_META_NODE_NAME", "spec.nodeName"));
    env.add(
        env(
            "ISTIO_META_INTERCEPTION_MODE",
            pod.annotations().getOrDefault(INTERCEPTION_MODE, in.meshInterceptionMode())));
    if (!mesh.network().isEmpty()) {
      env.add(env("ISTIO_META_NETWORK", mesh.network()));
    }
    String workload = pod.firstLabel(pod.workloadName(), LABEL_WORKLOAD_NAME);
    if (!workload.isEmpty()) {
      env.add(env("ISTIO_META_WORKLOAD_NAME", workload));
    }
    if (!pod.workloadName().isEmpty()) {
      env.add(env("ISTIO_META_OWNER", pod.ownerUri()));
    }
    env.addAll(meshEnv(in));
    env.addAll(metadataEnv(in));
    return env;
  }

  private static SecurityContext securityContext(TemplateInput in) {
    var proxy = in.settings().proxy();
    if ("true".equals(in.proxyMetadata().get("IPTABLES_TRACE_LOGGING"))) {
      return new SecurityContextBuilder()
          .withAllowPrivilegeEscalation(true)
          .withNewCapabilities()
          .withAdd("NET_ADMIN")
          .withDrop("ALL")
          .endCapabilities()
          .withPrivileged(true)
          .withReadOnlyRootFilesystem(true)
          .withRunAsGroup(1337L)
          .withRunAsNonRoot(false)
          .withRunAsUser(0L)
          .build();
    }
    boolean tproxy = in.traffic().interceptionMode().equals("TPROXY");
    boolean bind = "true".equals(in.pod().annotation(CAP_NET_BIND_SERVICE, "false"));
    List<String> add = new ArrayList<>();
    if (tproxy) {
      add.add("NET_ADMIN");
    }
    if (bind) {
      add.add("NET_BIND_SERVICE");
    }
    boolean root = tproxy || bind;
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(proxy.privileged())
        .withNewCapabilities()
        .withAdd(add.isEmpty() ? null : add)
        .withDrop("ALL")
        .endCapabilities()
        .withPrivileged(proxy.privileged())
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(!root)
        .withRunAsUser(root ? 0L : 1337L)
        .withRunAsGroup(1337L)
        .build();
  }
}
