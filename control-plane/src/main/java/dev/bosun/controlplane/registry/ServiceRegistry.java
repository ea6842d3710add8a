package dev.bosun.controlplane.registry;

import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Endpoint.Health;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.MeshService.Origin;
import dev.bosun.controlplane.model.MeshService.Resolution;
import dev.bosun.controlplane.model.Protocol;
import dev.bosun.controlplane.model.ServicePort;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Kubernetes side of the mesh: Services by host name and their endpoints from EndpointSlices,
 * enriched with the labels and service account of each endpoint's Pod and the locality of its Node.
 * Updates return what they changed, so a pod relabel is an endpoints-only change for exactly the
 * services that include it. Not thread-safe: the owner serialises updates.
 */
public final class ServiceRegistry {
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  static final String EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";
  static final String REGION_LABEL = "topology.kubernetes.io/region";
  static final String ZONE_LABEL = "topology.kubernetes.io/zone";
  static final String SUBZONE_LABEL = "topology.istio.io/subzone";
  static final String LOCALITY_LABEL = "istio-locality";

  private final String domainSuffix;

  private final Map<ObjectKey, Service> services = new HashMap<>();
  private final Map<ObjectKey, EndpointSlice> slices = new HashMap<>();
  private final Map<ObjectKey, Set<ObjectKey>> slicesByService = new HashMap<>();
  private final Map<ObjectKey, Pod> pods = new HashMap<>();
  private final Map<String, Node> nodes = new HashMap<>();
  private final Map<String, Namespace> namespaces = new HashMap<>();

  private final Map<String, MeshService> meshServices = new TreeMap<>();
  private final Map<String, List<Endpoint>> endpoints = new HashMap<>();
  private final Map<ObjectKey, Set<String>> hostsByPod = new HashMap<>();
  private final Map<String, Set<String>> hostsByNode = new HashMap<>();

  /** A namespaced object's identity. */
  public record ObjectKey(String namespace, String name) {}

  public ServiceRegistry(String domainSuffix) {
    this.domainSuffix = domainSuffix;
  }

  /** The host name of a Kubernetes Service: {@code name.namespace.svc.<domain suffix>}. */
  public String hostname(String namespace, String name) {
    return name + "." + namespace + ".svc." + domainSuffix;
  }

  public String domainSuffix() {
    return domainSuffix;
  }

  // ---- updates ------------------------------------------------------------------------------

  public RegistryChange upsertService(Service service) {
    ObjectKey key = key(service.getMetadata());
    services.put(key, service);
    String host = hostname(key.namespace(), key.name());
    MeshService previous = meshServices.put(host, toMeshService(service, host));
    boolean changed = previous == null || !previous.equals(meshServices.get(host));
    recomputeEndpoints(key);
    return changed ? RegistryChange.services(Set.of(host)) : RegistryChange.NONE;
  }

  public RegistryChange deleteService(String namespace, String name) {
    ObjectKey key = new ObjectKey(namespace, name);
    if (services.remove(key) == null) {
      return RegistryChange.NONE;
    }
    String host = hostname(namespace, name);
    meshServices.remove(host);
    endpoints.remove(host);
    return RegistryChange.services(Set.of(host));
  }

  public RegistryChange upsertEndpointSlice(EndpointSlice slice) {
    ObjectKey key = key(slice.getMetadata());
    EndpointSlice previous = slices.put(key, slice);
    Set<String> hosts = new HashSet<>();
    if (previous != null) {
      hosts.addAll(unindexSlice(key, previous));
    }
    ObjectKey service = serviceOf(slice);
    if (service != null) {
      slicesByService.computeIfAbsent(service, k -> new HashSet<>()).add(key);
      hosts.add(hostname(service.namespace(), service.name()));
    }
    return recompute(hosts);
  }

  public RegistryChange deleteEndpointSlice(String namespace, String name) {
    ObjectKey key = new ObjectKey(namespace, name);
    EndpointSlice previous = slices.remove(key);
    if (previous == null) {
      return RegistryChange.NONE;
    }
    return recompute(unindexSlice(key, previous));
  }

  public RegistryChange upsertPod(Pod pod) {
    ObjectKey key = key(pod.getMetadata());
    Pod previous = pods.put(key, pod);
    if (previous != null && sameEndpointFacts(previous, pod)) {
      return RegistryChange.NONE;
    }
    return recompute(hostsByPod.getOrDefault(key, Set.of()));
  }

  public RegistryChange deletePod(String namespace, String name) {
    ObjectKey key = new ObjectKey(namespace, name);
    if (pods.remove(key) == null) {
      return RegistryChange.NONE;
    }
    return recompute(hostsByPod.getOrDefault(key, Set.of()));
  }

  public RegistryChange upsertNode(Node node) {
    Node previous = nodes.put(node.getMetadata().getName(), node);
    if (previous != null && locality(previous).equals(locality(node))) {
      return RegistryChange.NONE;
    }
    return recompute(hostsByNode.getOrDefault(node.getMetadata().getName(), Set.of()));
  }

  public RegistryChange deleteNode(String name) {
    if (nodes.remove(name) == null) {
      return RegistryChange.NONE;
    }
    return recompute(hostsByNode.getOrDefault(name, Set.of()));
  }

  /** Namespaces carry no routing facts yet; kept so labels are at hand for selectors. */
  public void upsertNamespace(Namespace namespace) {
    namespaces.put(namespace.getMetadata().getName(), namespace);
  }

  public void deleteNamespace(String name) {
    namespaces.remove(name);
  }

  // ---- views --------------------------------------------------------------------------------

  /** Kubernetes services by host name. */
  public Map<String, MeshService> services() {
    return Collections.unmodifiableMap(meshServices);
  }

  /** Endpoints of one Kubernetes service host (empty if none). */
  public List<Endpoint> endpoints(String host) {
    return endpoints.getOrDefault(host, List.of());
  }

  /** Pods, for ServiceEntry workload selectors. */
  public Collection<Pod> pods() {
    return Collections.unmodifiableCollection(pods.values());
  }

  public Map<String, Namespace> namespaces() {
    return Collections.unmodifiableMap(namespaces);
  }

  /** Counts for debugging: services, slices, pods, nodes, namespaces. */
  public Map<String, Integer> counts() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    counts.put("services", services.size());
    counts.put("endpointSlices", slices.size());
    counts.put("pods", pods.size());
    counts.put("nodes", nodes.size());
    counts.put("namespaces", namespaces.size());
    return counts;
  }

  // ---- derivation ---------------------------------------------------------------------------

  private MeshService toMeshService(Service service, String host) {
    ObjectMeta meta = service.getMetadata();
    List<ServicePort> ports = new ArrayList<>();
    if (service.getSpec() != null && service.getSpec().getPorts() != null) {
      for (var port : service.getSpec().getPorts()) {
        if ("UDP".equalsIgnoreCase(port.getProtocol()) || port.getPort() == null) {
          continue;
        }
        String name = port.getName() == null ? "" : port.getName();
        ports.add(
            new ServicePort(name, port.getPort(), Protocol.select(name, port.getAppProtocol())));
      }
    }
    var spec = service.getSpec();
    String type = spec == null ? null : spec.getType();
    String clusterIp = spec == null ? null : spec.getClusterIP();
    Resolution resolution = Resolution.STATIC;
    List<String> addresses = new ArrayList<>();
    if ("ExternalName".equals(type)) {
      resolution = Resolution.DNS;
    } else if ("None".equals(clusterIp)) {
      resolution = Resolution.PASSTHROUGH;
    } else if (clusterIp != null && !clusterIp.isEmpty()) {
      addresses.add(clusterIp);
    }
    return new MeshService(
        host,
        meta.getNamespace(),
        meta.getName(),
        Origin.KUBERNETES,
        ports,
        addresses,
        meta.getLabels() == null ? Map.of() : meta.getLabels(),
        exportTo(meta),
        resolution,
        false,
        created(meta));
  }

  private static Set<String> exportTo(ObjectMeta meta) {
    String value =
        meta.getAnnotations() == null ? null : meta.getAnnotations().get(EXPORT_TO_ANNOTATION);
    if (value == null || value.isBlank()) {
      return Set.of();
    }
    Set<String> exportTo = new HashSet<>();
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        exportTo.add(part.trim());
      }
    }
    return exportTo;
  }

  private Set<String> unindexSlice(ObjectKey key, EndpointSlice slice) {
    ObjectKey service = serviceOf(slice);
    if (service == null) {
      return Set.of();
    }
    Set<ObjectKey> keys = slicesByService.get(service);
    if (keys != null) {
      keys.remove(key);
      if (keys.isEmpty()) {
        slicesByService.remove(service);
      }
    }
    return Set.of(hostname(service.namespace(), service.name()));
  }

  private static ObjectKey serviceOf(EndpointSlice slice) {
    Map<String, String> labels = slice.getMetadata().getLabels();
    String service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
    return service == null ? null : new ObjectKey(slice.getMetadata().getNamespace(), service);
  }

  private RegistryChange recompute(Set<String> hosts) {
    Set<String> changed = new HashSet<>();
    for (String host : hosts) {
      MeshService service = meshServices.get(host);
      List<Endpoint> before = endpoints.get(host);
      if (service == null) {
        // Slices may arrive before their Service: remember nothing until it exists.
        continue;
      }
      recomputeEndpoints(new ObjectKey(service.namespace(), service.name()));
      if (!endpoints.getOrDefault(host, List.of()).equals(before == null ? List.of() : before)) {
        changed.add(host);
      }
    }
    return RegistryChange.endpoints(changed);
  }

  private void recomputeEndpoints(ObjectKey service) {
    String host = hostname(service.namespace(), service.name());
    List<Endpoint> list = new ArrayList<>();
    for (ObjectKey sliceKey : slicesByService.getOrDefault(service, Set.of())) {
      EndpointSlice slice = slices.get(sliceKey);
      if (slice == null || "FQDN".equals(slice.getAddressType()) || slice.getEndpoints() == null) {
        continue;
      }
      Map<String, Integer> ports = new HashMap<>();
      if (slice.getPorts() != null) {
        for (EndpointPort port : slice.getPorts()) {
          if (port.getPort() != null && !"UDP".equalsIgnoreCase(port.getProtocol())) {
            ports.put(port.getName() == null ? "" : port.getName(), port.getPort());
          }
        }
      }
      for (var endpoint : slice.getEndpoints()) {
        Pod pod = null;
        if (endpoint.getTargetRef() != null && "Pod".equals(endpoint.getTargetRef().getKind())) {
          ObjectKey podKey =
              new ObjectKey(
                  endpoint.getTargetRef().getNamespace() == null
                      ? service.namespace()
                      : endpoint.getTargetRef().getNamespace(),
                  endpoint.getTargetRef().getName());
          pod = pods.get(podKey);
          hostsByPod.computeIfAbsent(podKey, k -> new HashSet<>()).add(host);
        }
        String nodeName = endpoint.getNodeName();
        if (nodeName == null && pod != null && pod.getSpec() != null) {
          nodeName = pod.getSpec().getNodeName();
        }
        if (nodeName != null) {
          hostsByNode.computeIfAbsent(nodeName, k -> new HashSet<>()).add(host);
        }
        Locality locality =
            locality(pod, nodeName == null ? null : nodes.get(nodeName), endpoint.getZone());
        for (String address :
            endpoint.getAddresses() == null ? List.<String>of() : endpoint.getAddresses()) {
          list.add(
              new Endpoint(
                  address,
                  ports,
                  pod == null || pod.getMetadata().getLabels() == null
                      ? Map.of()
                      : pod.getMetadata().getLabels(),
                  locality,
                  service.namespace(),
                  pod == null || pod.getSpec() == null ? "" : pod.getSpec().getServiceAccountName(),
                  pod == null ? "" : pod.getMetadata().getName(),
                  health(endpoint.getConditions()),
                  1));
        }
      }
    }
    list.sort((a, b) -> a.address().compareTo(b.address()));
    if (list.isEmpty()) {
      endpoints.remove(host);
    } else {
      endpoints.put(host, List.copyOf(list));
    }
  }

  /** Ready endpoints take traffic; terminating ones never do, even while still serving. */
  static Health health(EndpointConditions conditions) {
    if (conditions == null) {
      return Health.HEALTHY;
    }
    if (Boolean.TRUE.equals(conditions.getTerminating())) {
      return Health.TERMINATING;
    }
    return Boolean.FALSE.equals(conditions.getReady()) ? Health.UNHEALTHY : Health.HEALTHY;
  }

  /** The pod's {@code istio-locality} label wins; else the node's topology labels. */
  private static Locality locality(Pod pod, Node node, String zoneHint) {
    if (pod != null && pod.getMetadata().getLabels() != null) {
      String label = pod.getMetadata().getLabels().get(LOCALITY_LABEL);
      if (label != null && !label.isEmpty()) {
        return Locality.parse(label.replace('.', '/'));
      }
    }
    Locality fromNode = locality(node);
    String zone = fromNode.zone().isEmpty() && zoneHint != null ? zoneHint : fromNode.zone();
    return new Locality(fromNode.region(), zone, fromNode.subzone());
  }

  private static Locality locality(Node node) {
    if (node == null || node.getMetadata().getLabels() == null) {
      return Locality.UNKNOWN;
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    return new Locality(
        labels.get(REGION_LABEL), labels.get(ZONE_LABEL), labels.get(SUBZONE_LABEL));
  }

  private static boolean sameEndpointFacts(Pod a, Pod b) {
    return java.util.Objects.equals(a.getMetadata().getLabels(), b.getMetadata().getLabels())
        && java.util.Objects.equals(
            a.getSpec() == null ? null : a.getSpec().getServiceAccountName(),
            b.getSpec() == null ? null : b.getSpec().getServiceAccountName())
        && java.util.Objects.equals(
            a.getSpec() == null ? null : a.getSpec().getNodeName(),
            b.getSpec() == null ? null : b.getSpec().getNodeName());
  }

  private static ObjectKey key(ObjectMeta meta) {
    return new ObjectKey(
        meta.getNamespace() == null ? "default" : meta.getNamespace(), meta.getName());
  }

  static Instant created(ObjectMeta meta) {
    String timestamp = meta.getCreationTimestamp();
    if (timestamp == null || timestamp.isEmpty()) {
      return Instant.EPOCH;
    }
    try {
      return Instant.parse(timestamp);
    } catch (java.time.format.DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }
}
