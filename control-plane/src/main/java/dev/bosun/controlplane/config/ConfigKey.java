package dev.bosun.controlplane.config;

import static java.util.Objects.requireNonNull;

import dev.bosun.crd.IstioKind;

/** Identifies one Istio object: kind, namespace and name. */
public record ConfigKey(IstioKind kind, String namespace, String name)
    implements Comparable<ConfigKey> {
  public ConfigKey {
    requireNonNull(kind, "kind");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ConfigKey other) {
    int byKind = kind.compareTo(other.kind);
    if (byKind != 0) {
      return byKind;
    }
    int byNamespace = namespace.compareTo(other.namespace);
    return byNamespace != 0 ? byNamespace : name.compareTo(other.name);
  }

  @Override
  public String toString() {
    return kind.kind() + " " + namespace + "/" + name;
  }
}
