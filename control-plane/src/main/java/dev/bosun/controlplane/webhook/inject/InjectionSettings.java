package dev.bosun.controlplane.webhook.inject;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * What the injected proxy is told about its mesh and how it is built: the values istiod's chart
 * passes its injection template ({@code global.proxy}, {@code global.proxy_init}, the mesh identity
 * and the control plane's address), with istiod's chart defaults. Set from {@code bosun serve}
 * flags, which the chart fills in.
 *
 * @param revision the control-plane revision ({@code ""} for the default one)
 * @param istioNamespace the namespace the control plane runs in
 * @param caAddress where the proxy reaches the CA and xDS ({@code istiod[-rev].<ns>.svc:15012})
 * @param images the proxy and init images
 * @param mesh who the proxy says it is part of
 * @param proxy the proxy's defaults, which pod annotations override
 * @param nativeSidecars the proxy as a native sidecar (an init container with {@code restartPolicy:
 *     Always}), as istiod's {@code ENABLE_NATIVE_SIDECARS=true}
 * @param cni traffic capture set up by the Istio CNI node agent: the init container only validates
 *     it ({@code istio-validation}) and needs no privileges, as {@code pilot.cni.enabled}
 * @param autoInject pods with no {@code sidecar.istio.io/inject} opinion are injected ({@code
 *     global.proxy.autoInject: enabled})
 * @param rewriteAppProbes app probes are rewritten to the agent's status port ({@code
 *     sidecarInjectorWebhook.rewriteAppHTTPProbe})
 */
public record InjectionSettings(
    String revision,
    String istioNamespace,
    String caAddress,
    Images images,
    MeshIdentity mesh,
    ProxyDefaults proxy,
    boolean nativeSidecars,
    boolean cni,
    boolean autoInject,
    boolean rewriteAppProbes) {

  /** The proxy image tag of the Istio release whose injection template Bosun follows. */
  public static final String ISTIO_TAG = "1.28.0";

  public InjectionSettings {
    requireNonNull(revision, "revision");
    requireNonNull(istioNamespace, "istioNamespace");
    requireNonNull(caAddress, "caAddress");
    requireNonNull(images, "images");
    requireNonNull(mesh, "mesh");
    requireNonNull(proxy, "proxy");
  }

  /** istiod's chart defaults for a control plane of {@code revision} in {@code namespace}. */
  public static InjectionSettings defaults(String namespace, String revision) {
    return new InjectionSettings(
        revision,
        namespace,
        defaultCaAddress(namespace, revision),
        new Images("docker.io/istio", ISTIO_TAG, "proxyv2", "proxyv2", ""),
        new MeshIdentity("", "", "", "cluster.local", "cluster.local"),
        ProxyDefaults.defaults(),
        false,
        false,
        true,
        true);
  }

  /** {@code istiod[-<revision>].<namespace>.svc:15012}, where istiod's template points proxies. */
  public static String defaultCaAddress(String namespace, String revision) {
    return "istiod" + (revision.isEmpty() ? "" : "-" + revision) + "." + namespace + ".svc:15012";
  }

  /** The {@code istio.io/rev} value of this control plane. */
  public String revisionLabel() {
    return revision.isEmpty() ? "default" : revision;
  }

  public InjectionSettings withNativeSidecars(boolean on) {
    return new InjectionSettings(
        revision,
        istioNamespace,
        caAddress,
        images,
        mesh,
        proxy,
        on,
        cni,
        autoInject,
        rewriteAppProbes);
  }

  public InjectionSettings withCni(boolean on) {
    return new InjectionSettings(
        revision,
        istioNamespace,
        caAddress,
        images,
        mesh,
        proxy,
        nativeSidecars,
        on,
        autoInject,
        rewriteAppProbes);
  }

  public InjectionSettings withProxy(ProxyDefaults defaults) {
    return new InjectionSettings(
        revision,
        istioNamespace,
        caAddress,
        images,
        mesh,
        defaults,
        nativeSidecars,
        cni,
        autoInject,
        rewriteAppProbes);
  }

  public InjectionSettings withMesh(MeshIdentity identity) {
    return new InjectionSettings(
        revision,
        istioNamespace,
        caAddress,
        images,
        identity,
        proxy,
        nativeSidecars,
        cni,
        autoInject,
        rewriteAppProbes);
  }

  /**
   * The images, as istiod names them: {@code <hub>/<name>:<tag>}.
   *
   * @param pullPolicy the containers' {@code imagePullPolicy}, or {@code ""} to leave it unset
   */
  public record Images(String hub, String tag, String proxy, String proxyInit, String pullPolicy) {
    public Images {
      requireNonNull(hub, "hub");
      requireNonNull(tag, "tag");
      requireNonNull(proxy, "proxy");
      requireNonNull(proxyInit, "proxyInit");
      requireNonNull(pullPolicy, "pullPolicy");
    }

    /** {@code <hub>/<name>:<tag>}, or {@code name} itself when it already names a registry. */
    public String image(String name, String imageType) {
      if (name.contains("/")) {
        return name;
      }
      return hub + "/" + name + ":" + tagFor(imageType);
    }

    /** The tag with the image type's suffix ({@code -distroless}, {@code -debug}), as istiod. */
    private String tagFor(String imageType) {
      if (imageType.isEmpty()) {
        return tag;
      }
      String base = tag;
      for (String known : new String[] {"distroless", "debug"}) {
        if (base.endsWith("-" + known)) {
          base = base.substring(0, base.length() - known.length() - 1);
          break;
        }
      }
      return imageType.equals("default") ? base : base + "-" + imageType;
    }
  }

  /**
   * The mesh the proxy joins.
   *
   * @param clusterId {@code ISTIO_META_CLUSTER_ID}; {@code ""} gives istiod's {@code Kubernetes}
   * @param network {@code ISTIO_META_NETWORK} and the {@code topology.istio.io/network} label, or
   *     {@code ""}
   * @param meshId {@code ISTIO_META_MESH_ID}; {@code ""} gives the trust domain
   * @param trustDomain {@code TRUST_DOMAIN}
   * @param clusterDomain the DNS suffix in the agent's {@code --domain}
   */
  public record MeshIdentity(
      String clusterId, String network, String meshId, String trustDomain, String clusterDomain) {
    public MeshIdentity {
      requireNonNull(clusterId, "clusterId");
      requireNonNull(network, "network");
      requireNonNull(meshId, "meshId");
      requireNonNull(trustDomain, "trustDomain");
      requireNonNull(clusterDomain, "clusterDomain");
    }
  }

  /**
   * {@code global.proxy}: the proxy's defaults, each overridden per pod by its annotation.
   *
   * @param requests resource requests ({@code cpu}, {@code memory}) unless annotated
   * @param limits resource limits unless annotated
   * @param holdApplicationUntilProxyStarts the app starts once the proxy is ready
   */
  public record ProxyDefaults(
      String logLevel,
      String componentLogLevel,
      String agentLogLevel,
      Map<String, String> requests,
      Map<String, String> limits,
      TrafficDefaults traffic,
      int statusPort,
      int readinessInitialDelaySeconds,
      int readinessPeriodSeconds,
      int readinessFailureThreshold,
      boolean startupProbe,
      int startupFailureThreshold,
      boolean holdApplicationUntilProxyStarts,
      boolean privileged,
      String tokenAudience) {
    public ProxyDefaults {
      requireNonNull(logLevel, "logLevel");
      requireNonNull(componentLogLevel, "componentLogLevel");
      requireNonNull(agentLogLevel, "agentLogLevel");
      requests = Map.copyOf(requests);
      limits = Map.copyOf(limits);
      requireNonNull(traffic, "traffic");
      requireNonNull(tokenAudience, "tokenAudience");
    }

    /**
     * istiod's chart defaults. The limits are written as Kubernetes stores them ({@code 2000m} is
     * stored as {@code 2}, {@code 1024Mi} as {@code 1Gi}), which is what istiod's patch carries.
     */
    public static ProxyDefaults defaults() {
      return new ProxyDefaults(
          "warning",
          "misc:error",
          "default:info",
          Map.of("cpu", "100m", "memory", "128Mi"),
          Map.of("cpu", "2", "memory", "1Gi"),
          TrafficDefaults.defaults(),
          15020,
          0,
          15,
          4,
          true,
          600,
          false,
          false,
          "istio-ca");
    }

    public ProxyDefaults withHoldApplicationUntilProxyStarts(boolean hold) {
      return new ProxyDefaults(
          logLevel,
          componentLogLevel,
          agentLogLevel,
          requests,
          limits,
          traffic,
          statusPort,
          readinessInitialDelaySeconds,
          readinessPeriodSeconds,
          readinessFailureThreshold,
          startupProbe,
          startupFailureThreshold,
          hold,
          privileged,
          tokenAudience);
    }
  }

  /** The traffic capture defaults, each overridden by its {@code traffic.sidecar.istio.io/*}. */
  public record TrafficDefaults(
      String includeIPRanges,
      String excludeIPRanges,
      String includeInboundPorts,
      String excludeInboundPorts,
      String includeOutboundPorts,
      String excludeOutboundPorts) {
    public TrafficDefaults {
      requireNonNull(includeIPRanges, "includeIPRanges");
      requireNonNull(excludeIPRanges, "excludeIPRanges");
      requireNonNull(includeInboundPorts, "includeInboundPorts");
      requireNonNull(excludeInboundPorts, "excludeInboundPorts");
      requireNonNull(includeOutboundPorts, "includeOutboundPorts");
      requireNonNull(excludeOutboundPorts, "excludeOutboundPorts");
    }

    /** Capture everything, as istiod's chart. */
    public static TrafficDefaults defaults() {
      return new TrafficDefaults("*", "", "*", "", "", "");
    }
  }
}
