package dev.bosun.controlplane.snapshot;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.Conflict;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.JwksSource;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.TlsCredential;
import dev.bosun.controlplane.registry.ServiceEntryServices;
import dev.bosun.crd.IstioKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Builds snapshots: a full build from services, endpoints and config, or an endpoints-only update
 * that reuses everything of the previous snapshot but the changed hosts' endpoints.
 */
public final class SnapshotBuilder {
  private final String rootNamespace;
  private final String domainSuffix;

  public SnapshotBuilder(String rootNamespace) {
    this(rootNamespace, "cluster.local");
  }

  public SnapshotBuilder(String rootNamespace, String domainSuffix) {
    this.rootNamespace = rootNamespace;
    this.domainSuffix = domainSuffix;
  }

  /**
   * The inputs of a full build, read from the registry, store and mesh config by the caller.
   *
   * @param meshConfig the mesh-wide settings in force (Istio's MeshConfig)
   */
  public record Inputs(
      Map<String, MeshService> kubernetesServices,
      Function<String, List<Endpoint>> kubernetesEndpoints,
      Map<IstioKind, List<ConfigEntry>> config,
      Collection<io.fabric8.kubernetes.api.model.Pod> pods,
      MeshConfig meshConfig,
      Map<String, TlsCredential> credentials,
      Map<JwksSource, String> jwks) {
    public Inputs {
      java.util.Objects.requireNonNull(meshConfig, "meshConfig");
      credentials = Map.copyOf(credentials);
      jwks = Map.copyOf(jwks);
    }

    /** Inputs with no JWT signing keys fetched. */
    public Inputs(
        Map<String, MeshService> kubernetesServices,
        Function<String, List<Endpoint>> kubernetesEndpoints,
        Map<IstioKind, List<ConfigEntry>> config,
        Collection<io.fabric8.kubernetes.api.model.Pod> pods,
        MeshConfig meshConfig,
        Map<String, TlsCredential> credentials) {
      this(
          kubernetesServices, kubernetesEndpoints, config, pods, meshConfig, credentials, Map.of());
    }

    /** Inputs without TLS credentials. */
    public Inputs(
        Map<String, MeshService> kubernetesServices,
        Function<String, List<Endpoint>> kubernetesEndpoints,
        Map<IstioKind, List<ConfigEntry>> config,
        Collection<io.fabric8.kubernetes.api.model.Pod> pods,
        MeshConfig meshConfig) {
      this(kubernetesServices, kubernetesEndpoints, config, pods, meshConfig, Map.of());
    }

    /** Inputs with Istio's default mesh config. */
    public Inputs(
        Map<String, MeshService> kubernetesServices,
        Function<String, List<Endpoint>> kubernetesEndpoints,
        Map<IstioKind, List<ConfigEntry>> config,
        Collection<io.fabric8.kubernetes.api.model.Pod> pods) {
      this(kubernetesServices, kubernetesEndpoints, config, pods, MeshConfig.DEFAULTS);
    }
  }

  public MeshSnapshot full(long version, Instant now, Inputs inputs) {
    ServiceEntryServices entries =
        ServiceEntryServices.build(
            inputs.config().getOrDefault(IstioKind.SERVICE_ENTRY, List.of()),
            inputs.config().getOrDefault(IstioKind.WORKLOAD_ENTRY, List.of()),
            inputs.pods());
    Map<String, MeshService> services = new TreeMap<>(entries.services());
    // A Kubernetes Service owns its host name; a ServiceEntry for the same host is ignored.
    services.putAll(inputs.kubernetesServices());
    Map<String, List<Endpoint>> endpoints = new HashMap<>(entries.endpoints());
    for (String host : inputs.kubernetesServices().keySet()) {
      List<Endpoint> list = inputs.kubernetesEndpoints().apply(host);
      if (list.isEmpty()) {
        endpoints.remove(host);
      } else {
        endpoints.put(host, list);
      }
    }
    ConfigIndex config =
        new ConfigIndex(
            rootNamespace, domainSuffix, inputs.meshConfig().exportTo(), inputs.config());
    List<Conflict> conflicts = new ArrayList<>(entries.conflicts());
    conflicts.addAll(config.conflicts());
    return new MeshSnapshot(
        version,
        now,
        services,
        endpoints,
        config,
        conflicts,
        inputs.meshConfig(),
        inputs.credentials(),
        inputs.jwks());
  }

  /**
   * The previous snapshot with new endpoints for {@code hosts}; services and config are shared, not
   * rebuilt.
   */
  public MeshSnapshot withEndpoints(
      MeshSnapshot previous, long version, Instant now, Map<String, List<Endpoint>> changed) {
    return withEndpoints(previous, version, now, changed, previous.credentials());
  }

  /**
   * The previous snapshot with new endpoints for {@code hosts} and the TLS credentials now known;
   * services and config are shared, not rebuilt.
   */
  public MeshSnapshot withEndpoints(
      MeshSnapshot previous,
      long version,
      Instant now,
      Map<String, List<Endpoint>> changed,
      Map<String, TlsCredential> credentials) {
    Map<String, List<Endpoint>> endpoints = new HashMap<>(previous.endpointMap());
    changed.forEach(
        (host, list) -> {
          if (list.isEmpty()) {
            endpoints.remove(host);
          } else {
            endpoints.put(host, list);
          }
        });
    return new MeshSnapshot(
        version,
        now,
        previous.services(),
        endpoints,
        previous.config(),
        previous.conflicts(),
        previous.meshConfig(),
        credentials,
        previous.jwks());
  }
}
