package dev.bosun.controlplane.mesh;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Settings of the mesh model, with istiod's defaults. The trust domain is the authority of the
 * mesh's SPIFFE identities ({@code spiffe://<trust domain>/ns/<ns>/sa/<sa>}).
 */
public record MeshSettings(
    String domainSuffix,
    String rootNamespace,
    Duration debounceQuiet,
    Duration debounceMax,
    String trustDomain) {

  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";

  public static final MeshSettings DEFAULTS =
      new MeshSettings(
          "cluster.local",
          "istio-system",
          Duration.ofMillis(100),
          Duration.ofSeconds(10),
          DEFAULT_TRUST_DOMAIN);

  public MeshSettings {
    requireNonNull(domainSuffix, "domainSuffix");
    requireNonNull(rootNamespace, "rootNamespace");
    requireNonNull(debounceQuiet, "debounceQuiet");
    requireNonNull(debounceMax, "debounceMax");
    requireNonNull(trustDomain, "trustDomain");
    if (trustDomain.isBlank()) {
      throw new IllegalArgumentException(
          "trustDomain: \"\" (expected: a name such as cluster.local)");
    }
  }

  /** Settings with the default trust domain, {@code cluster.local}. */
  public MeshSettings(
      String domainSuffix, String rootNamespace, Duration debounceQuiet, Duration debounceMax) {
    this(domainSuffix, rootNamespace, debounceQuiet, debounceMax, DEFAULT_TRUST_DOMAIN);
  }
}
