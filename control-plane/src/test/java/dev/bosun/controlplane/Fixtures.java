package dev.bosun.controlplane;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Kubernetes objects for tests, built the way the API server would hold them. */
public final class Fixtures {
  private Fixtures() {}

  public static Service service(String namespace, String name, int port, String portName) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withClusterIP("10.96.0." + (Math.abs(name.hashCode()) % 250 + 1))
        .withSelector(Map.of("app", name))
        .addNewPort()
        .withName(portName)
        .withPort(port)
        .withNewTargetPort(port)
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * One endpoint of a slice: address, pod name (or null), node name (or null), ready, terminating.
   */
  public record Ep(String address, String pod, String node, boolean ready, boolean terminating) {
    public static Ep ready(String address, String pod) {
      return new Ep(address, pod, null, true, false);
    }
  }

  public static EndpointSlice slice(
      String namespace, String name, String service, String portName, int port, Ep... endpoints) {
    List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> list = new ArrayList<>();
    for (Ep ep : endpoints) {
      EndpointBuilder builder =
          new EndpointBuilder()
              .withAddresses(ep.address())
              .withNewConditions()
              .withReady(ep.ready())
              .withServing(ep.ready() || ep.terminating())
              .withTerminating(ep.terminating())
              .endConditions()
              .withNodeName(ep.node());
      if (ep.pod() != null) {
        builder
            .withNewTargetRef()
            .withKind("Pod")
            .withNamespace(namespace)
            .withName(ep.pod())
            .endTargetRef();
      }
      list.add(builder.build());
    }
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(Map.of("kubernetes.io/service-name", service))
        .endMetadata()
        .withAddressType("IPv4")
        .addNewPort()
        .withName(portName)
        .withPort(port)
        .withProtocol("TCP")
        .endPort()
        .withEndpoints(list)
        .build();
  }

  public static Pod pod(
      String namespace, String name, String ip, String serviceAccount, Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccount)
        .addNewContainer()
        .withName("app")
        .withImage("example/app:1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  public static Node node(String name, String region, String zone) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(
            Map.of("topology.kubernetes.io/region", region, "topology.kubernetes.io/zone", zone))
        .endMetadata()
        .build();
  }
}
