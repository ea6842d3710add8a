package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.ProxyParts.*;
import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * istiod's {@code gateway} template, which Istio's gateway charts select ({@code
 * inject.istio.io/templates: gateway}, container {@code istio-proxy} with {@code image: auto}):
 * pilot-agent and Envoy in router mode ({@code proxy router}), no traffic capture and no init
 * container, readiness on 15021, unprivileged ports opened to the pod by a sysctl.
 */
public final class GatewayTemplate implements InjectionTemplate {
  public static final String NAME = "gateway";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pod render(TemplateInput in) {
    return new PodBuilder()
        .withNewMetadata()
        .withLabels(canonicalLabels(in.pod(), false))
        .withAnnotations(commonAnnotations(in))
        .endMetadata()
        .withNewSpec()
        .withNewSecurityContext()
        .addNewSysctl()
        .withName("net.ipv4.ip_unprivileged_port_start")
        .withValue("0")
        .endSysctl()
        .endSecurityContext()
        .withContainers(proxy(in))
        .withVolumes(envoyVolumes(in, false))
        .endSpec()
        .build();
  }

  private static Container proxy(TemplateInput in) {
    ContainerBuilder container =
        new ContainerBuilder()
            .withName(PROXY_CONTAINER)
            .withImage(in.proxyImage())
            .addNewPort()
            .withContainerPort(15090)
            .withProtocol("TCP")
            .withName("http-envoy-prom")
            .endPort()
            .withArgs(agentArgs(in, "router"))
            .withNewSecurityContext()
            .withRunAsUser(1337L)
            .withRunAsGroup(1337L)
            .endSecurityContext()
            .withEnv(proxyEnv(in))
            .withReadinessProbe(readinessProbe(in, 15021))
            .withVolumeMounts(envoyMounts(in, false));
    if (!in.settings().images().pullPolicy().isEmpty()) {
      container.withImagePullPolicy(in.settings().images().pullPolicy());
    }
    return container.build();
  }

  private static List<EnvVar> proxyEnv(TemplateInput in) {
    var mesh = in.settings().mesh();
    PodFacts pod = in.pod();
    List<EnvVar> env = new ArrayList<>(identityEnv(in));
    env.add(resourceEnv("ISTIO_CPU_LIMIT", "limits.cpu"));
    env.add(proxyConfigEnv(in));
    env.add(podPortsEnv(pod.allContainers()));
    env.add(resourceEnv("GOMEMLIMIT", "limits.memory"));
    env.add(appContainersEnv(in));
    env.add(
        env("ISTIO_META_CLUSTER_ID", mesh.clusterId().isEmpty() ? "Kubernetes" : mesh.clusterId()));
    env.add(fieldEnv("ISTIO_META_NODE_NAME", "spec.nodeName"));
    env.add(env("ISTIO_META_INTERCEPTION_MODE", in.meshInterceptionMode()));
    if (!mesh.network().isEmpty()) {
      env.add(env("ISTIO_META_NETWORK", mesh.network()));
    }
    if (!pod.workloadName().isEmpty()) {
      env.add(env("ISTIO_META_WORKLOAD_NAME", pod.workloadName()));
      env.add(env("ISTIO_META_OWNER", pod.ownerUri()));
    }
    env.addAll(meshEnv(in));
    env.addAll(metadataEnv(in));
    return env;
  }
}
