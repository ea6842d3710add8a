package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.ProxyParts.*;
import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * istiod's {@code grpc-agent} template for proxyless gRPC: pilot-agent alone in {@code istio-proxy}
 * (no Envoy, no traffic capture) serving the gRPC xDS bootstrap and certificates, which every app
 * container finds through {@code GRPC_XDS_BOOTSTRAP} and shared volumes.
 */
public final class GrpcAgentTemplate implements InjectionTemplate {
  public static final String NAME = "grpc-agent";

  /** Where the agent writes the gRPC bootstrap, in the shared {@code istio-xds} volume. */
  public static final String BOOTSTRAP = "/etc/istio/proxy/grpc-bootstrap.json";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pod render(TemplateInput in) {
    Map<String, String> annotations = commonAnnotations(in);
    // The app's probes go to the app: there is no Envoy in front of it.
    annotations.put(REWRITE_APP_PROBERS, "false");
    List<Container> containers = new ArrayList<>();
    containers.add(agent(in));
    for (Container app : in.pod().appContainers()) {
      containers.add(
          new ContainerBuilder()
              .withName(app.getName())
              .withEnv(
                  env("GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT", "true"),
                  env("GRPC_XDS_BOOTSTRAP", BOOTSTRAP))
              .withVolumeMounts(
                  mount("istio-data", "/var/lib/istio/data"),
                  mount("istio-xds", "/etc/istio/proxy"),
                  mount("workload-certs", "/var/run/secrets/workload-spiffe-credentials"))
              .build());
    }
    return new PodBuilder()
        .withNewMetadata()
        .withLabels(canonicalLabels(in.pod(), false))
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withContainers(containers)
        .withVolumes(volumes(in))
        .endSpec()
        .build();
  }

  private static Container agent(TemplateInput in) {
    ContainerBuilder agent =
        new ContainerBuilder()
            .withName(PROXY_CONTAINER)
            .withImage(in.proxyImage())
            .addNewPort()
            .withContainerPort(15020)
            .withProtocol("TCP")
            .withName("mesh-metrics")
            .endPort()
            .withArgs(agentArgs(in))
            .withNewLifecycle()
            .withNewPostStart()
            .withNewExec()
            .withCommand("pilot-agent", "wait", "--url=http://localhost:15020/healthz/ready")
            .endExec()
            .endPostStart()
            .endLifecycle()
            .withEnv(proxyEnv(in))
            .withResources(resources(in));
    if (!in.settings().images().pullPolicy().isEmpty()) {
      agent.withImagePullPolicy(in.settings().images().pullPolicy());
    }
    // As istiod's template: the probe and the mounts come only with a status port.
    if (!in.traffic().statusPort().equals("0")) {
      agent.withReadinessProbe(readinessProbe(in, 15020)).withVolumeMounts(mounts(in));
    } else {
      agent.withVolumeMounts(userEntries(in.pod(), USER_VOLUME_MOUNT, VolumeMount.class));
    }
    return agent.build();
  }

  private static List<EnvVar> proxyEnv(TemplateInput in) {
    var mesh = in.settings().mesh();
    PodFacts pod = in.pod();
    List<EnvVar> env = new ArrayList<>();
    env.add(env("ISTIO_META_GENERATOR", "grpc"));
    env.add(env("OUTPUT_CERTS", "/var/lib/istio/data"));
    env.addAll(identityEnv(in));
    env.add(proxyConfigEnv(in));
    env.add(podPortsEnv(pod.allContainers()));
    env.add(appContainersEnv(in));
    env.add(
        env("ISTIO_META_CLUSTER_ID", mesh.clusterId().isEmpty() ? "Kubernetes" : mesh.clusterId()));
    env.add(fieldEnv("ISTIO_META_NODE_NAME", "spec.nodeName"));
    if (!mesh.network().isEmpty()) {
      env.add(env("ISTIO_META_NETWORK", mesh.network()));
    }
    if (!pod.workloadName().isEmpty()) {
      env.add(env("ISTIO_META_WORKLOAD_NAME", pod.workloadName()));
      env.add(env("ISTIO_META_OWNER", pod.ownerUri()));
    }
    env.addAll(meshEnv(in));
    env.addAll(metadataEnv(in));
    // gRPC resolves xds:/// names itself, so the agent's DNS proxy has nothing to do.
    env.add(env("ISTIO_META_DNS_CAPTURE", "false"));
    env.add(env("DISABLE_ENVOY", "true"));
    return env;
  }

  private static List<VolumeMount> mounts(TemplateInput in) {
    List<VolumeMount> mounts =
        new ArrayList<>(
            List.of(
                mount("workload-socket", "/var/run/secrets/workload-spiffe-uds"),
                mount("workload-certs", "/var/run/secrets/workload-spiffe-credentials"),
                mount("istiod-ca-cert", "/var/run/secrets/istio"),
                mount("istio-data", "/var/lib/istio/data"),
                mount("istio-xds", "/etc/istio/proxy"),
                mount("istio-token", "/var/run/secrets/tokens"),
                mount("istio-podinfo", "/etc/istio/pod")));
    mounts.addAll(userEntries(in.pod(), USER_VOLUME_MOUNT, VolumeMount.class));
    return mounts;
  }

  private static List<Volume> volumes(TemplateInput in) {
    List<Volume> volumes =
        new ArrayList<>(
            List.of(
                named("workload-socket"),
                named("workload-certs"),
                memoryDir("istio-xds"),
                emptyDir("istio-data"),
                podInfo(),
                token(in.settings().proxy().tokenAudience()),
                caRoot()));
    volumes.addAll(userEntries(in.pod(), USER_VOLUME, Volume.class));
    return volumes;
  }
}
