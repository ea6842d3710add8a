package dev.bosun.controlplane.webhook.inject;

/** The names of the annotations and labels sidecar injection reads and writes, as Istio's. */
public final class SidecarAnnotations {
  private SidecarAnnotations() {}

  public static final String INJECT = "sidecar.istio.io/inject";
  public static final String STATUS = "sidecar.istio.io/status";
  public static final String TEMPLATES = "inject.istio.io/templates";
  public static final String PROXY_CONFIG = "proxy.istio.io/config";
  public static final String REVISION = "istio.io/rev";
  public static final String PROXY_IMAGE = "sidecar.istio.io/proxyImage";
  public static final String PROXY_IMAGE_TYPE = "sidecar.istio.io/proxyImageType";
  public static final String PROXY_CPU = "sidecar.istio.io/proxyCPU";
  public static final String PROXY_MEMORY = "sidecar.istio.io/proxyMemory";
  public static final String PROXY_CPU_LIMIT = "sidecar.istio.io/proxyCPULimit";
  public static final String PROXY_MEMORY_LIMIT = "sidecar.istio.io/proxyMemoryLimit";
  public static final String LOG_LEVEL = "sidecar.istio.io/logLevel";
  public static final String COMPONENT_LOG_LEVEL = "sidecar.istio.io/componentLogLevel";
  public static final String AGENT_LOG_LEVEL = "sidecar.istio.io/agentLogLevel";
  public static final String INTERCEPTION_MODE = "sidecar.istio.io/interceptionMode";
  public static final String CAP_NET_BIND_SERVICE = "sidecar.istio.io/capNetBindService";
  public static final String NATIVE_SIDECAR = "sidecar.istio.io/nativeSidecar";
  public static final String STATUS_PORT = "status.sidecar.istio.io/port";
  public static final String READINESS_INITIAL_DELAY =
      "readiness.status.sidecar.istio.io/initialDelaySeconds";
  public static final String READINESS_PERIOD = "readiness.status.sidecar.istio.io/periodSeconds";
  public static final String READINESS_FAILURE_THRESHOLD =
      "readiness.status.sidecar.istio.io/failureThreshold";
  public static final String REWRITE_APP_PROBERS = "sidecar.istio.io/rewriteAppHTTPProbers";
  public static final String USER_VOLUME = "sidecar.istio.io/userVolume";
  public static final String USER_VOLUME_MOUNT = "sidecar.istio.io/userVolumeMount";
  public static final String BOOTSTRAP_OVERRIDE = "sidecar.istio.io/bootstrapOverride";
  public static final String PROXY_OVERRIDES = "proxy.istio.io/overrides";
  public static final String MERGE_METRICS = "prometheus.istio.io/merge-metrics";
  public static final String INCLUDE_OUTBOUND_IP_RANGES =
      "traffic.sidecar.istio.io/includeOutboundIPRanges";
  public static final String EXCLUDE_OUTBOUND_IP_RANGES =
      "traffic.sidecar.istio.io/excludeOutboundIPRanges";
  public static final String INCLUDE_INBOUND_PORTS = "traffic.sidecar.istio.io/includeInboundPorts";
  public static final String EXCLUDE_INBOUND_PORTS = "traffic.sidecar.istio.io/excludeInboundPorts";
  public static final String INCLUDE_OUTBOUND_PORTS =
      "traffic.sidecar.istio.io/includeOutboundPorts";
  public static final String EXCLUDE_OUTBOUND_PORTS =
      "traffic.sidecar.istio.io/excludeOutboundPorts";
  public static final String EXCLUDE_INTERFACES = "traffic.sidecar.istio.io/excludeInterfaces";
  public static final String KUBEVIRT_INTERFACES = "traffic.sidecar.istio.io/kubevirtInterfaces";
  public static final String REROUTE_VIRTUAL_INTERFACES = "istio.io/reroute-virtual-interfaces";

  public static final String LABEL_TLS_MODE = "security.istio.io/tlsMode";
  public static final String LABEL_CANONICAL_NAME = "service.istio.io/canonical-name";
  public static final String LABEL_CANONICAL_REVISION = "service.istio.io/canonical-revision";
  public static final String LABEL_WORKLOAD_NAME = "service.istio.io/workload-name";
  public static final String LABEL_NETWORK = "topology.istio.io/network";
  public static final String LABEL_TUNNEL = "networking.istio.io/tunnel";

  public static final String DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container";
  public static final String DEFAULT_LOGS_CONTAINER =
      "kubectl.kubernetes.io/default-logs-container";

  /** The container names injection adds. */
  public static final String PROXY_CONTAINER = "istio-proxy";

  public static final String INIT_CONTAINER = "istio-init";
  public static final String VALIDATION_CONTAINER = "istio-validation";
  public static final String CORE_DUMP_CONTAINER = "enable-core-dump";
}
