package dev.bosun.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.registry.ServiceRegistry;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A mesh of a stated size for benchmarks: services spread over namespaces, each with endpoints
 * backed by pods (two versions), plus VirtualServices and DestinationRules for the first hosts.
 */
public final class MeshFixture {
  public final int services;
  public final int endpointsPerService;
  public final int namespaces;
  public final ServiceRegistry registry = new ServiceRegistry("cluster.local");
  public final ConfigStore store = new ConfigStore(new SimpleMeterRegistry());

  public MeshFixture(
      int services,
      int endpointsPerService,
      int namespaces,
      int virtualServices,
      int destinationRules) {
    this.services = services;
    this.endpointsPerService = endpointsPerService;
    this.namespaces = namespaces;
    for (int s = 0; s < services; s++) {
      String ns = namespace(s);
      String name = "svc-" + s;
      registry.upsertService(service(ns, name));
      for (int e = 0; e < endpointsPerService; e++) {
        registry.upsertPod(pod(ns, name + "-" + e, address(s, e), e % 2 == 0 ? "v1" : "v2", name));
      }
      registry.upsertEndpointSlice(slice(ns, name, s, endpointsPerService));
    }
    for (int i = 0; i < virtualServices; i++) {
      store.put(virtualService(i), "benchmark");
    }
    for (int i = 0; i < destinationRules; i++) {
      store.put(destinationRule(i), "benchmark");
    }
  }

  public String namespace(int service) {
    return "ns-" + (service % namespaces);
  }

  public String host(int service) {
    return "svc-" + service + "." + namespace(service) + ".svc.cluster.local";
  }

  public SnapshotBuilder.Inputs inputs() {
    return new SnapshotBuilder.Inputs(
        Map.copyOf(registry.services()),
        registry::endpoints,
        store.all(),
        List.copyOf(registry.pods()));
  }

  static String address(int service, int endpoint) {
    int n = service * 64 + endpoint;
    return "10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255);
  }

  static Service service(String ns, String name) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withClusterIP("10.96." + (Math.abs(name.hashCode()) % 250) + ".1")
        .addNewPort()
        .withName("http")
        .withPort(8080)
        .withProtocol("TCP")
        .endPort()
        .addNewPort()
        .withName("grpc")
        .withPort(9090)
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  static Pod pod(String ns, String name, String ip, String version, String app) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .withLabels(Map.of("app", app, "version", version))
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(app)
        .withNodeName("node-" + (Math.abs(name.hashCode()) % 20))
        .endSpec()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  /**
   * The slice of {@code service} with {@code count} ready endpoints (the last one toggled by {@code
   * extra}).
   */
  public EndpointSlice slice(String ns, String name, int service, int count) {
    List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> endpoints = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      endpoints.add(
          new EndpointBuilder()
              .withAddresses(address(service, e))
              .withNewConditions()
              .withReady(true)
              .withServing(true)
              .withTerminating(false)
              .endConditions()
              .withNewTargetRef()
              .withKind("Pod")
              .withNamespace(ns)
              .withName(name + "-" + e)
              .endTargetRef()
              .build());
    }
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .withLabels(Map.of("kubernetes.io/service-name", name))
        .endMetadata()
        .withAddressType("IPv4")
        .addNewPort()
        .withName("http")
        .withPort(8080)
        .withProtocol("TCP")
        .endPort()
        .addNewPort()
        .withName("grpc")
        .withPort(9090)
        .withProtocol("TCP")
        .endPort()
        .withEndpoints(endpoints)
        .build();
  }

  JsonNode virtualService(int i) {
    return virtualService(i, 90);
  }

  /**
   * VirtualService {@code vs-i}: canary header to v2, else {@code v1Weight}% to v1, the rest v2.
   */
  JsonNode virtualService(int i, int v1Weight) {
    String host = host(i);
    return yaml(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: vs-%d, namespace: %s}
        spec:
          hosts: [%s]
          http:
          - match: [{headers: {x-canary: {exact: "true"}}}]
            route: [{destination: {host: %s, subset: v2}}]
          - route:
            - {destination: {host: %s, subset: v1}, weight: %d}
            - {destination: {host: %s, subset: v2}, weight: %d}
            timeout: 2s
            retries: {attempts: 2, perTryTimeout: 500ms, retryOn: 5xx}
        """
            .formatted(i, namespace(i), host, host, host, v1Weight, host, 100 - v1Weight));
  }

  JsonNode destinationRule(int i) {
    return yaml(
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: dr-%d, namespace: %s}
        spec:
          host: %s
          trafficPolicy:
            connectionPool: {http: {http2MaxRequests: 1000}}
            outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """
            .formatted(i, namespace(i), host(i)));
  }

  private static JsonNode yaml(String text) {
    try {
      return IstioJson.yaml().readTree(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
