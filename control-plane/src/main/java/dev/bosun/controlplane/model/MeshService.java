package dev.bosun.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A service of the mesh, known by its host name: a Kubernetes Service ({@code
 * name.namespace.svc.cluster.local}) or a host of a ServiceEntry.
 */
public record MeshService(
    String hostname,
    String namespace,
    String name,
    Origin origin,
    List<ServicePort> ports,
    List<String> addresses,
    Map<String, String> labels,
    Set<String> exportTo,
    Resolution resolution,
    boolean meshExternal,
    Instant created) {

  public MeshService {
    requireNonNull(hostname, "hostname");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    requireNonNull(origin, "origin");
    ports = List.copyOf(ports);
    addresses = List.copyOf(addresses);
    labels = Map.copyOf(labels);
    exportTo = Set.copyOf(exportTo);
    requireNonNull(resolution, "resolution");
    requireNonNull(created, "created");
  }

  /** Where a service comes from. */
  public enum Origin {
    KUBERNETES,
    SERVICE_ENTRY
  }

  /** How clients find the service's endpoints. */
  public enum Resolution {
    /** Endpoints come from the registry (EDS). */
    STATIC,
    /** Clients resolve the host name (or endpoint addresses) through DNS. */
    DNS,
    /** Like DNS, but only the first address is used. */
    DNS_ROUND_ROBIN,
    /** No load balancing: connect to the original destination. */
    PASSTHROUGH
  }

  /** The port with this number, if the service has one. */
  public Optional<ServicePort> port(int number) {
    return ports.stream().filter(p -> p.port() == number).findFirst();
  }

  /**
   * Whether proxies in {@code namespace} may see this service, by its {@code exportTo} ("." its own
   * namespace, "*" everyone, "~" no one; empty means everyone).
   */
  public boolean visibleFrom(String namespace) {
    return ExportTo.of(this.namespace, exportTo).visibleFrom(namespace);
  }
}
