package dev.bosun.controlplane.meshconfig;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSetting;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The mesh-wide settings Bosun honours from Istio's MeshConfig, with Istio's defaults for what the
 * YAML leaves out. Generators read it from the snapshot, so a change is one more full push. {@code
 * document} is the whole config as applied (defaults, then the YAML), unknown fields included, for
 * {@code /debug/mesh}.
 *
 * @param rootNamespace the namespace whose Sidecars and policies apply mesh-wide (read at start)
 * @param trustDomain the SPIFFE trust domain of workload identities (read at start)
 * @param outboundTrafficPolicy where sidecars send traffic to hosts outside the registry, unless a
 *     Sidecar says otherwise
 * @param enableAutoMtls whether clusters without DestinationRule TLS use mesh mTLS to endpoints
 *     that accept it
 * @param connectTimeout the connect timeout of every cluster a DestinationRule does not override
 * @param localityLbSetting the locality load balancing of clusters whose DestinationRule has none
 * @param exportTo the {@code exportTo} of objects that do not set one
 * @param ingressService parsed and checked; Bosun does not translate Kubernetes Ingress
 * @param ingressClass parsed and checked; Bosun does not translate Kubernetes Ingress
 * @param proxyDefaults {@code defaultConfig}: the ProxyConfig sidecar injection starts from
 * @param document the applied config as JSON (kept private: read it through {@link #document()})
 */
public record MeshConfig(
    String rootNamespace,
    String trustDomain,
    OutboundTrafficPolicy outboundTrafficPolicy,
    boolean enableAutoMtls,
    Duration connectTimeout,
    LocalityLoadBalancerSetting localityLbSetting,
    ExportDefaults exportTo,
    String ingressService,
    String ingressClass,
    ProxyDefaults proxyDefaults,
    ObjectNode document) {

  /** Istio's defaults: what an empty {@code mesh} key means. */
  public static final MeshConfig DEFAULTS = MeshConfigParser.defaults();

  public MeshConfig {
    requireNonNull(rootNamespace, "rootNamespace");
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(outboundTrafficPolicy, "outboundTrafficPolicy");
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(localityLbSetting, "localityLbSetting");
    requireNonNull(exportTo, "exportTo");
    requireNonNull(ingressService, "ingressService");
    requireNonNull(ingressClass, "ingressClass");
    requireNonNull(proxyDefaults, "proxyDefaults");
    document = requireNonNull(document, "document").deepCopy();
  }

  /** {@code outboundTrafficPolicy.mode}. */
  public enum OutboundTrafficPolicy {
    /** Unknown hosts pass through to their original destination. */
    ALLOW_ANY,
    /** Only hosts of the registry are reachable; the rest goes to the black hole. */
    REGISTRY_ONLY;

    public boolean registryOnly() {
      return this == REGISTRY_ONLY;
    }
  }

  /**
   * {@code defaultServiceExportTo}, {@code defaultVirtualServiceExportTo} and {@code
   * defaultDestinationRuleExportTo}: {@code "*"} everyone, {@code "."} the object's namespace,
   * {@code "~"} no one, or namespace names.
   */
  public record ExportDefaults(
      List<String> services, List<String> virtualServices, List<String> destinationRules) {
    public static final ExportDefaults EVERYONE =
        new ExportDefaults(List.of("*"), List.of("*"), List.of("*"));

    public ExportDefaults {
      services = List.copyOf(services);
      virtualServices = List.copyOf(virtualServices);
      destinationRules = List.copyOf(destinationRules);
    }
  }

  /**
   * {@code defaultConfig}, the mesh-wide ProxyConfig: the fields Bosun reads typed, and the whole
   * ProxyConfig as JSON for sidecar injection.
   *
   * @param discoveryAddress where sidecars reach the control plane ({@code host:port})
   * @param proxyMetadata environment variables for the sidecar agent
   * @param holdApplicationUntilProxyStarts whether application containers wait for the sidecar
   * @param json the ProxyConfig, defaults merged under the YAML (copied on the way out)
   */
  public record ProxyDefaults(
      String discoveryAddress,
      Map<String, String> proxyMetadata,
      boolean holdApplicationUntilProxyStarts,
      ObjectNode json) {
    public ProxyDefaults {
      requireNonNull(discoveryAddress, "discoveryAddress");
      proxyMetadata = Map.copyOf(proxyMetadata);
      json = requireNonNull(json, "json").deepCopy();
    }

    /** A copy: callers may change it freely. */
    @Override
    public ObjectNode json() {
      return json.deepCopy();
    }
  }

  /** A copy of the applied config. */
  @Override
  public ObjectNode document() {
    return document.deepCopy();
  }

  /**
   * The mesh-wide ProxyConfig ({@code defaultConfig}) as JSON, Istio's defaults merged under the
   * YAML, for sidecar injection; a copy.
   */
  public ObjectNode defaultConfig() {
    return proxyDefaults.json();
  }

  /** This config with another root namespace and trust domain (command-line flags win). */
  public MeshConfig withIdentity(String rootNamespace, String trustDomain) {
    ObjectNode applied = document();
    applied.put("rootNamespace", rootNamespace);
    applied.put("trustDomain", trustDomain);
    return new MeshConfig(
        rootNamespace,
        trustDomain,
        outboundTrafficPolicy,
        enableAutoMtls,
        connectTimeout,
        localityLbSetting,
        exportTo,
        ingressService,
        ingressClass,
        proxyDefaults,
        applied);
  }
}
