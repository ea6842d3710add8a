package dev.bosun.controlplane.mesh;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Settings of the mesh model, with istiod's defaults. */
public record MeshSettings(
    String domainSuffix, String rootNamespace, Duration debounceQuiet, Duration debounceMax) {

  public static final MeshSettings DEFAULTS =
      new MeshSettings(
          "cluster.local", "istio-system", Duration.ofMillis(100), Duration.ofSeconds(10));

  public MeshSettings {
    requireNonNull(domainSuffix, "domainSuffix");
    requireNonNull(rootNamespace, "rootNamespace");
    requireNonNull(debounceQuiet, "debounceQuiet");
    requireNonNull(debounceMax, "debounceMax");
  }
}
