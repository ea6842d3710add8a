package dev.bosun.controlplane.registry;

import java.util.HashSet;
import java.util.Set;

/**
 * What a registry update changed: hosts whose service definition changed (a full push) and hosts
 * whose endpoints changed (an endpoints-only push).
 */
public record RegistryChange(Set<String> services, Set<String> endpoints) {
  public static final RegistryChange NONE = new RegistryChange(Set.of(), Set.of());

  public RegistryChange {
    services = Set.copyOf(services);
    endpoints = Set.copyOf(endpoints);
  }

  public boolean isEmpty() {
    return services.isEmpty() && endpoints.isEmpty();
  }

  public static RegistryChange services(Set<String> hosts) {
    return new RegistryChange(hosts, Set.of());
  }

  public static RegistryChange endpoints(Set<String> hosts) {
    return new RegistryChange(Set.of(), hosts);
  }

  public RegistryChange merge(RegistryChange other) {
    Set<String> s = new HashSet<>(services);
    s.addAll(other.services);
    Set<String> e = new HashSet<>(endpoints);
    e.addAll(other.endpoints);
    return new RegistryChange(s, e);
  }
}
