package dev.bosun.controlplane.registry;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.config.Conflict;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Endpoint.Health;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.MeshService.Origin;
import dev.bosun.controlplane.model.MeshService.Resolution;
import dev.bosun.controlplane.model.Protocol;
import dev.bosun.controlplane.model.ServicePort;
import io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry;
import io.fabric8.istio.api.api.networking.v1alpha3.WorkloadEntry;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns ServiceEntries into mesh services, one per host, with endpoints from the entry itself or
 * from the WorkloadEntries and Pods its workload selector picks. When two entries claim one host,
 * Istio's precedence picks one and the other is reported. A pure function of its inputs.
 */
public final class ServiceEntryServices {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ServiceEntryServices.class);

  private final Map<String, MeshService> services;
  private final Map<String, List<Endpoint>> endpoints;
  private final List<Conflict> conflicts;

  private ServiceEntryServices(
      Map<String, MeshService> services,
      Map<String, List<Endpoint>> endpoints,
      List<Conflict> conflicts) {
    this.services = services;
    this.endpoints = endpoints;
    this.conflicts = conflicts;
  }

  public Map<String, MeshService> services() {
    return services;
  }

  public Map<String, List<Endpoint>> endpoints() {
    return endpoints;
  }

  public List<Conflict> conflicts() {
    return conflicts;
  }

  public static ServiceEntryServices build(
      List<ConfigEntry> serviceEntries, List<ConfigEntry> workloadEntries, Collection<Pod> pods) {
    List<ConfigEntry> ordered = new ArrayList<>(serviceEntries);
    ordered.sort(ConfigEntry.PRECEDENCE);
    Map<String, MeshService> services = new TreeMap<>();
    Map<String, List<Endpoint>> endpoints = new HashMap<>();
    Map<String, ConfigKey> owners = new HashMap<>();
    List<Conflict> conflicts = new ArrayList<>();
    for (ConfigEntry entry : ordered) {
      ServiceEntry spec;
      List<ServicePort> ports;
      List<Endpoint> entryEndpoints;
      Map<String, MeshService> entryServices = new TreeMap<>();
      try {
        spec = entry.spec(ServiceEntry.class);
        ports = ports(spec);
        entryEndpoints = endpoints(entry, spec, ports, workloadEntries, pods);
        for (String host : spec.getHosts() == null ? List.<String>of() : spec.getHosts()) {
          entryServices.put(host, service(host, entry, spec, ports));
        }
      } catch (RuntimeException e) {
        // One object the registry cannot use costs only its own services, never the snapshot.
        log.error("{}: left out of the service registry: {}", entry.key(), e.toString(), e);
        continue;
      }
      for (Map.Entry<String, MeshService> service : entryServices.entrySet()) {
        String host = service.getKey();
        ConfigKey owner = owners.putIfAbsent(host, entry.key());
        if (owner != null) {
          conflicts.add(new Conflict("host " + host, owner, entry.key()));
          continue;
        }
        services.put(host, service.getValue());
        if (!entryEndpoints.isEmpty()) {
          endpoints.put(host, entryEndpoints);
        }
      }
    }
    return new ServiceEntryServices(services, endpoints, List.copyOf(conflicts));
  }

  private static MeshService service(
      String host, ConfigEntry entry, ServiceEntry spec, List<ServicePort> ports) {
    Set<String> exportTo =
        spec.getExportTo() == null ? Set.of() : new HashSet<>(spec.getExportTo());
    return new MeshService(
        host,
        entry.key().namespace(),
        entry.key().name(),
        Origin.SERVICE_ENTRY,
        ports,
        spec.getAddresses() == null ? List.of() : spec.getAddresses(),
        entry.labels(),
        exportTo,
        resolution(spec),
        spec.getLocation() == null || !"MESH_INTERNAL".equals(spec.getLocation().name()),
        entry.created());
  }

  private static Resolution resolution(ServiceEntry spec) {
    if (spec.getResolution() == null) {
      return Resolution.PASSTHROUGH;
    }
    return switch (spec.getResolution().name()) {
      case "STATIC" -> Resolution.STATIC;
      case "DNS", "DYNAMIC_DNS" -> Resolution.DNS;
      case "DNS_ROUND_ROBIN" -> Resolution.DNS_ROUND_ROBIN;
      default -> Resolution.PASSTHROUGH;
    };
  }

  private static List<ServicePort> ports(ServiceEntry spec) {
    List<ServicePort> ports = new ArrayList<>();
    if (spec.getPorts() != null) {
      for (var port : spec.getPorts()) {
        if (port.getNumber() == null) {
          continue;
        }
        String name = port.getName() == null ? "" : port.getName();
        Protocol protocol = Protocol.parse(port.getProtocol());
        ports.add(
            new ServicePort(
                name,
                port.getNumber().intValue(),
                protocol == Protocol.UNKNOWN ? Protocol.select(name, null) : protocol));
      }
    }
    return ports;
  }

  private static List<Endpoint> endpoints(
      ConfigEntry entry,
      ServiceEntry spec,
      List<ServicePort> ports,
      List<ConfigEntry> workloadEntries,
      Collection<Pod> pods) {
    List<Endpoint> list = new ArrayList<>();
    String namespace = entry.key().namespace();
    if (spec.getEndpoints() != null && !spec.getEndpoints().isEmpty()) {
      for (WorkloadEntry endpoint : spec.getEndpoints()) {
        list.add(workloadEndpoint(endpoint, namespace, "", targetPorts(spec, ports)));
      }
    } else if (spec.getWorkloadSelector() != null
        && spec.getWorkloadSelector().getLabels() != null) {
      Map<String, String> selector = spec.getWorkloadSelector().getLabels();
      for (ConfigEntry we : workloadEntries) {
        try {
          WorkloadEntry workload = we.spec(WorkloadEntry.class);
          Map<String, String> labels =
              workload.getLabels() == null ? Map.of() : workload.getLabels();
          if (we.key().namespace().equals(namespace) && matches(labels, selector)) {
            list.add(
                workloadEndpoint(workload, namespace, we.key().name(), targetPorts(spec, ports)));
          }
        } catch (RuntimeException e) {
          log.error("{}: left out of {}'s endpoints: {}", we.key(), entry.key(), e.toString(), e);
        }
      }
      for (Pod pod : pods) {
        Map<String, String> labels =
            pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
        String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        if (namespace.equals(pod.getMetadata().getNamespace())
            && ip != null
            && matches(labels, selector)) {
          list.add(
              new Endpoint(
                  ip,
                  targetPorts(spec, ports),
                  labels,
                  Locality.UNKNOWN,
                  namespace,
                  pod.getSpec() == null ? "" : pod.getSpec().getServiceAccountName(),
                  pod.getMetadata().getName(),
                  Health.HEALTHY,
                  1));
        }
      }
    }
    list.sort((a, b) -> a.address().compareTo(b.address()));
    return List.copyOf(list);
  }

  /** For each port name, the port endpoints listen on: targetPort if set, else the port itself. */
  private static Map<String, Integer> targetPorts(ServiceEntry spec, List<ServicePort> ports) {
    Map<String, Integer> map = new HashMap<>();
    for (ServicePort port : ports) {
      map.put(port.name(), port.port());
    }
    if (spec.getPorts() != null) {
      for (var port : spec.getPorts()) {
        if (port.getTargetPort() != null && port.getTargetPort() > 0 && port.getName() != null) {
          map.put(port.getName(), port.getTargetPort().intValue());
        }
      }
    }
    return map;
  }

  private static Endpoint workloadEndpoint(
      WorkloadEntry workload, String namespace, String name, Map<String, Integer> defaults) {
    Map<String, Integer> ports = new HashMap<>(defaults);
    if (workload.getPorts() != null) {
      workload.getPorts().forEach((portName, port) -> ports.put(portName, port.intValue()));
    }
    return new Endpoint(
        workload.getAddress() == null ? "" : workload.getAddress(),
        ports,
        workload.getLabels() == null ? Map.of() : workload.getLabels(),
        Locality.parse(workload.getLocality()),
        namespace,
        workload.getServiceAccount(),
        name,
        Health.HEALTHY,
        workload.getWeight() == null || workload.getWeight() == 0
            ? 1
            : workload.getWeight().intValue());
  }

  private static boolean matches(Map<String, String> labels, Map<String, String> selector) {
    return dev.bosun.controlplane.model.LabelSelector.selects(selector, labels);
  }
}
