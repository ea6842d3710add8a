package dev.bosun.e2e;

import dev.bosun.controlplane.source.KubernetesSource;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.function.Consumer;

/**
 * How a test world registers its services and backends with the API server: a Service with Pods and
 * EndpointSlices, as the kubelet and the endpoint controller would leave them, or (where loopback
 * EndpointSlices are refused, as on a real API server) a ServiceEntry for the service's cluster
 * host name selecting one WorkloadEntry per backend, as VMs join a mesh.
 */
final class Registrations {
  /** The label a backend's WorkloadEntry carries for its ServiceEntry's workload selector. */
  private static final String SERVICE_LABEL = "bosun.dev/e2e-service";

  private final KubernetesClient client;
  private final String namespace;
  private final boolean workloadEntries;
  private final Consumer<String> apply;

  /**
   * @param apply creates or updates an Istio object written for namespace {@code e2e} in {@code
   *     namespace}
   */
  Registrations(
      KubernetesClient client, String namespace, boolean workloadEntries, Consumer<String> apply) {
    this.client = client;
    this.namespace = namespace;
    this.workloadEntries = workloadEntries;
    this.apply = apply;
  }

  /**
   * A service {@code name} on port 7070 (named grpc), with no endpoints yet: a Service, or with
   * WorkloadEntry backends a ServiceEntry for its cluster host name that selects them.
   */
  void service(String name) {
    if (workloadEntries) {
      apply.accept(
          """
          apiVersion: networking.istio.io/v1
          kind: ServiceEntry
          metadata: {name: %s, namespace: e2e}
          spec:
            hosts: [%s.e2e.svc.cluster.local]
            addresses: [%s]
            location: MESH_INTERNAL
            resolution: STATIC
            ports: [{number: 7070, name: grpc, protocol: GRPC}]
            workloadSelector: {labels: {%s: %s}}
          """
              .formatted(name, name, clusterIp(name), SERVICE_LABEL, name));
      return;
    }
    client
        .services()
        .inNamespace(namespace)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .withClusterIP(clusterIp(name))
                .addNewPort()
                .withName("grpc")
                .withPort(7070)
                .endPort()
                .endSpec()
                .build())
        .createOr(s -> s.update());
  }

  private static String clusterIp(String service) {
    return "10.96.0." + (Math.abs(service.hashCode()) % 250 + 1);
  }

  void register(String service, String pod, Map<String, String> labels, String zone, int port) {
    if (workloadEntries) {
      Map<String, String> selected = new java.util.TreeMap<>(labels);
      selected.put(SERVICE_LABEL, service);
      GenericKubernetesResource entry = new GenericKubernetesResource();
      entry.setApiVersion("networking.istio.io/v1");
      entry.setKind("WorkloadEntry");
      entry.setMetadata(
          new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
              .withNamespace(namespace)
              .withName(pod)
              .build());
      entry.setAdditionalProperty(
          "spec",
          Map.of(
              "address",
              MeshWorld.BACKEND_ADDRESS,
              "ports",
              Map.of("grpc", port),
              "labels",
              selected,
              // Where a pod's istio-locality label or its slice's zone would have put it.
              "locality",
              labels.getOrDefault("istio-locality", "." + zone).replace('.', '/'),
              "serviceAccount",
              service));
      client
          .genericKubernetesResources(KubernetesSource.resource(IstioKind.WORKLOAD_ENTRY))
          .inNamespace(namespace)
          .resource(entry)
          .createOr(existing -> existing.update());
      return;
    }
    // The pod's ServiceAccount: without a controller manager nobody else creates it, and the API
    // server refuses pods whose ServiceAccount does not exist.
    ServiceAccounts.ensure(client, namespace, service);
    var pods = client.pods().inNamespace(namespace);
    pods.resource(
            new PodBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(pod)
                .withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .withServiceAccountName(service)
                .addNewContainer()
                .withName("app")
                .withImage("app")
                .endContainer()
                .endSpec()
                .build())
        .createOr(p -> p.update());
    // A real API server ignores the status of a create; the kubelet would set it through the
    // status subresource, as this does.
    pods.withName(pod)
        .editStatus(
            p ->
                new PodBuilder(p)
                    .withNewStatus()
                    .withPodIP(MeshWorld.BACKEND_ADDRESS)
                    .endStatus()
                    .build());
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(namespace)
        .resource(
            new EndpointSliceBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(pod)
                .withLabels(Map.of("kubernetes.io/service-name", service))
                .endMetadata()
                .withAddressType("IPv4")
                .addNewPort()
                .withName("grpc")
                .withPort(port)
                .withProtocol("TCP")
                .endPort()
                .addNewEndpoint()
                .withAddresses(MeshWorld.BACKEND_ADDRESS)
                .withNewConditions()
                .withReady(true)
                .endConditions()
                .withZone(zone)
                .withNewTargetRef()
                .withKind("Pod")
                .withNamespace(namespace)
                .withName(pod)
                .endTargetRef()
                .endEndpoint()
                .build())
        .createOr(s -> s.update());
  }

  /** Deletes a backend's registration, as a scale-down would. */
  void remove(String pod) {
    if (workloadEntries) {
      client
          .genericKubernetesResources(KubernetesSource.resource(IstioKind.WORKLOAD_ENTRY))
          .inNamespace(namespace)
          .withName(pod)
          .delete();
      return;
    }
    client.discovery().v1().endpointSlices().inNamespace(namespace).withName(pod).delete();
    client.pods().inNamespace(namespace).withName(pod).delete();
  }
}
