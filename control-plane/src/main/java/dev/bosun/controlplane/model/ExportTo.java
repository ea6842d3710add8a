package dev.bosun.controlplane.model;

import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Istio's {@code exportTo} of an object in namespace {@code owner}: which namespaces may see it.
 * {@code "."} is the owner's namespace, {@code "*"} every namespace, {@code "~"} none; no values
 * means every namespace.
 */
public record ExportTo(String owner, Set<String> values) {
  public ExportTo {
    values = Set.copyOf(values);
  }

  /** The {@code exportTo} list of an object in {@code owner} (null: not set, so everyone). */
  public static ExportTo of(String owner, Collection<String> values) {
    return new ExportTo(owner, values == null ? Set.of() : Set.copyOf(values));
  }

  /**
   * The {@code exportTo} of an object in {@code owner}, or {@code defaults} (the mesh config's
   * {@code default*ExportTo}) when it sets none.
   */
  public static ExportTo of(String owner, Collection<String> values, Collection<String> defaults) {
    return values == null || values.isEmpty() ? of(owner, defaults) : of(owner, values);
  }

  /** Whether proxies in {@code namespace} may see the object. */
  public boolean visibleFrom(String namespace) {
    if (isEveryone()) {
      return true;
    }
    return values.contains(namespace) || (values.contains(".") && owner.equals(namespace));
  }

  /** The namespaces the object is exported to; empty when it is exported to every namespace. */
  public Optional<Set<String>> audience() {
    if (isEveryone()) {
      return Optional.empty();
    }
    Set<String> namespaces = new HashSet<>();
    for (String value : values) {
      if (!value.equals("~")) {
        namespaces.add(value.equals(".") ? owner : value);
      }
    }
    return Optional.of(Set.copyOf(namespaces));
  }

  private boolean isEveryone() {
    return values.isEmpty() || values.contains("*");
  }
}
