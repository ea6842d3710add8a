package dev.bosun.controlplane.monitor;

import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The service registry and its endpoints as of the snapshot in force, for istiod's {@code
 * /debug/registryz} (every service, Kubernetes and ServiceEntry alike) and {@code /debug/endpointz}
 * (each service's endpoints: address, ports, labels, locality, identity, health), both narrowed by
 * {@code ?namespace=}, the second also by {@code ?host=}.
 */
final class RegistryPages {
  private RegistryPages() {}

  static List<Map<String, Object>> registryz(MeshSnapshot snapshot, String namespace) {
    List<Map<String, Object>> services = new ArrayList<>();
    for (MeshService service : snapshot.services().values()) {
      if (!namespace.isEmpty() && !service.namespace().equals(namespace)) {
        continue;
      }
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("hostname", service.hostname());
      entry.put("namespace", service.namespace());
      entry.put("name", service.name());
      entry.put("origin", service.origin().name());
      entry.put("addresses", service.addresses());
      entry.put("resolution", service.resolution().name());
      entry.put("meshExternal", service.meshExternal());
      List<Map<String, Object>> ports = new ArrayList<>();
      for (ServicePort port : service.ports()) {
        ports.add(
            Map.of("name", port.name(), "port", port.port(), "protocol", port.protocol().name()));
      }
      entry.put("ports", ports);
      entry.put("labels", service.labels());
      entry.put("exportTo", service.exportTo());
      entry.put("created", String.valueOf(service.created()));
      services.add(entry);
    }
    return services;
  }

  static Map<String, Object> endpointz(MeshSnapshot snapshot, String namespace, String host) {
    Map<String, Object> byHost = new java.util.TreeMap<>();
    for (MeshService service : snapshot.services().values()) {
      if ((!namespace.isEmpty() && !service.namespace().equals(namespace))
          || (!host.isEmpty() && !service.hostname().equals(host))) {
        continue;
      }
      List<Map<String, Object>> endpoints = new ArrayList<>();
      for (Endpoint endpoint : snapshot.endpoints(service.hostname())) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("address", endpoint.address());
        entry.put("ports", endpoint.ports());
        entry.put("labels", endpoint.labels());
        entry.put("locality", String.valueOf(endpoint.locality()));
        entry.put("namespace", endpoint.namespace());
        entry.put("serviceAccount", endpoint.serviceAccount());
        entry.put("workload", endpoint.workload());
        entry.put("health", endpoint.health().name());
        entry.put("weight", endpoint.weight());
        endpoints.add(entry);
      }
      byHost.put(service.hostname(), endpoints);
    }
    return byHost;
  }
}
