package dev.bosun.controlplane.meshconfig;

import java.util.Set;

/**
 * The JSON names of the fields of Istio's {@code MeshConfig} and {@code ProxyConfig} (istio/api
 * {@code mesh/v1alpha1/config.proto} and {@code proxy.proto}), and the ones Bosun acts on. A field
 * outside these sets is a typo or from a newer Istio; one inside but not honoured is Istio's and
 * has no effect here. Both are kept and reported, never silently dropped.
 */
final class MeshConfigFields {
  private MeshConfigFields() {}

  /** Every top-level MeshConfig field. */
  static final Set<String> MESH_CONFIG =
      Set.of(
          "proxyListenPort",
          "proxyInboundListenPort",
          "proxyHttpPort",
          "connectTimeout",
          "hboneIdleTimeout",
          "protocolDetectionTimeout",
          "tcpKeepalive",
          "ingressClass",
          "ingressService",
          "ingressControllerMode",
          "ingressSelector",
          "enableTracing",
          "accessLogFile",
          "accessLogFormat",
          "accessLogEncoding",
          "enableEnvoyAccessLogService",
          "disableEnvoyListenerLog",
          "defaultConfig",
          "outboundTrafficPolicy",
          "inboundTrafficPolicy",
          "configSources",
          "enableAutoMtls",
          "trustDomain",
          "trustDomainAliases",
          "caCertificates",
          "defaultServiceExportTo",
          "defaultVirtualServiceExportTo",
          "defaultDestinationRuleExportTo",
          "rootNamespace",
          "localityLbSetting",
          "zoneAwareLbSetting",
          "dnsRefreshRate",
          "h2UpgradePolicy",
          "inboundClusterStatName",
          "outboundClusterStatName",
          "certificates",
          "serviceSettings",
          "serviceScopeConfigs",
          "enablePrometheusMerge",
          "verifyCertificateAtClient",
          "ca",
          "extensionProviders",
          "defaultProviders",
          "discoverySelectors",
          "pathNormalization",
          "defaultHttpRetryPolicy",
          "meshMtls",
          "tlsDefaults",
          "defaultTrafficPolicy",
          "serviceEntryVisibility");

  /** The MeshConfig fields Bosun reads; every other known field is kept but has no effect. */
  static final Set<String> HONOURED =
      Set.of(
          "rootNamespace",
          "trustDomain",
          "outboundTrafficPolicy",
          "enableAutoMtls",
          "connectTimeout",
          "localityLbSetting",
          "defaultServiceExportTo",
          "defaultVirtualServiceExportTo",
          "defaultDestinationRuleExportTo",
          "ingressService",
          "ingressClass",
          "defaultConfig",
          "extensionProviders",
          "accessLogFile",
          "accessLogEncoding",
          "accessLogFormat",
          "disableEnvoyListenerLog");

  /** The fields of {@code outboundTrafficPolicy}. */
  static final Set<String> OUTBOUND_TRAFFIC_POLICY = Set.of("mode", "tls");

  /** Every ProxyConfig field ({@code defaultConfig}); all are passed on to sidecar injection. */
  static final Set<String> PROXY_CONFIG =
      Set.of(
          "configPath",
          "binaryPath",
          "serviceCluster",
          "tracingServiceName",
          "drainDuration",
          "discoveryAddress",
          "discoveryRefreshDelay",
          "zipkinAddress",
          "statsdUdpAddress",
          "envoyMetricsServiceAddress",
          "proxyAdminPort",
          "availabilityZone",
          "controlPlaneAuthPolicy",
          "customConfigFile",
          "statNameLength",
          "concurrency",
          "proxyBootstrapTemplatePath",
          "interceptionMode",
          "tracing",
          "sds",
          "envoyAccessLogService",
          "envoyMetricsService",
          "proxyMetadata",
          "runtimeValues",
          "statusPort",
          "extraStatTags",
          "gatewayTopology",
          "terminationDrainDuration",
          "meshId",
          "readinessProbe",
          "proxyStatsMatcher",
          "holdApplicationUntilProxyStarts",
          "caCertificatesPem",
          "image",
          "privateKeyProvider",
          "proxyHeaders",
          "fileFlushInterval",
          "fileFlushMinSizeKb",
          "statsCompression",
          "connectionSettings");
}
