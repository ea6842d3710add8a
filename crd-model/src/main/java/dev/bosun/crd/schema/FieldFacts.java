package dev.bosun.crd.schema;

import dev.bosun.crd.schema.TypeSchema.ObjectSchema;
import dev.bosun.crd.schema.TypeSchema.Scalar;
import dev.bosun.crd.schema.TypeSchema.ScalarSchema;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Facts about Istio's fields that the fabric8 Java types cannot carry: which strings are {@code
 * google.protobuf.Duration}s, which fields Istio's protos mark REQUIRED, and the shape of the one
 * message the model gets wrong. Keys are {@code <model class simple name>.<json field>}; {@code
 * FieldFactsTest} proves every key names a real field, so a model upgrade that renames one cannot
 * silently drop a rule.
 */
final class FieldFacts {
  static final Set<String> DURATIONS =
      Set.of(
          "HTTPRoute.timeout",
          "HTTPRetry.perTryTimeout",
          "HTTPRetry.backoff",
          "CorsPolicy.maxAge",
          "HTTPFaultInjectionDelay.fixedDelay",
          "HTTPFaultInjectionDelay.exponentialDelay",
          "ConnectionPoolSettingsHTTPSettings.idleTimeout",
          "ConnectionPoolSettingsTCPSettings.connectTimeout",
          "ConnectionPoolSettingsTCPSettings.idleTimeout",
          "ConnectionPoolSettingsTCPSettings.maxConnectionDuration",
          "ConnectionPoolSettingsTCPSettingsTcpKeepalive.time",
          "ConnectionPoolSettingsTCPSettingsTcpKeepalive.interval",
          "LoadBalancerSettingsConsistentHashLBHTTPCookie_.ttl",
          "LoadBalancerSettings.warmupDurationSecs",
          "WarmupConfiguration.duration",
          "OutlierDetection.interval",
          "OutlierDetection.baseEjectionTime",
          "JWTRule.timeout");

  static final Set<String> REQUIRED =
      Set.of(
          "Destination.host",
          "HTTPRouteDestination.destination",
          "RouteDestination.destination",
          "HTTPMirrorPolicy.destination",
          "DestinationRule.host",
          "Subset.name",
          "Server.port",
          "Server.hosts",
          "Port.number",
          "Port.protocol",
          "Port.name",
          "ServicePort.number",
          "ServicePort.name",
          "ServiceEntry.hosts",
          "IstioIngressListener.port",
          "IstioEgressListener.hosts",
          "JWTHeader.name",
          "ClaimToHeader.header",
          "ClaimToHeader.claim",
          "Condition.key",
          "HTTPDirectResponse.status",
          "TLSRoute.match",
          "TLSMatchAttributes.sniHosts",
          "LoadBalancerSettingsConsistentHashLBHTTPCookie_.name",
          "TrafficPolicyTunnelSettings.targetHost",
          "TrafficPolicyTunnelSettings.targetPort",
          "PolicyTargetReference.kind",
          "PolicyTargetReference.name");

  /**
   * Fields whose schema differs from what fabric8's Java types say: fabric8 names the {@code
   * ringHash} branch class and the RingHash message the same, so the model nests the type in itself
   * (Istio's {@code RingHash} has one field); and some unsigned fields are Java ints.
   */
  static final Map<String, TypeSchema> OVERRIDES =
      Map.of(
          "LoadBalancerSettingsConsistentHashLB.ringHash",
          new ObjectSchema(
              "RingHash",
              Map.of("minimumRingSize", ScalarSchema.of(Scalar.UINT64)),
              Set.of(),
              List.of()),
          // Istio's uint64 fields.
          "LoadBalancerSettingsConsistentHashLB.minimumRingSize",
          ScalarSchema.of(Scalar.UINT64),
          "LoadBalancerSettingsConsistentHashLBMagLev_.tableSize",
          ScalarSchema.of(Scalar.UINT64),
          // An enum fabric8 types as an integer (IstioJson reads and writes its names).
          "WasmPluginTrafficSelector.mode",
          new ScalarSchema(Scalar.STRING, dev.bosun.crd.IstioJson.WORKLOAD_MODES, false));

  /**
   * Fields Istio's CRDs define that the model's types lack, read from their unknown fields: the
   * proto-name spellings Istio's JSON reader takes either way ({@code HTTPRoute.mirror_percent},
   * {@code JWTRule.jwks_uri}), and AuthorizationPolicy's {@code source.trustDomains} and {@code
   * notTrustDomains}.
   */
  private static final Map<String, Map<String, TypeSchema>> ALIASES =
      Map.of(
          "HTTPRoute",
          Map.of("mirror_percent", ScalarSchema.of(Scalar.UINT32)),
          "JWTRule",
          Map.of("jwks_uri", ScalarSchema.of(Scalar.STRING)),
          "Source",
          // Sorted, so that the rendered CRDs do not depend on a map's iteration order.
          new java.util.TreeMap<>(
              Map.of(
                  "trustDomains",
                  new TypeSchema.ArraySchema(ScalarSchema.of(Scalar.STRING)),
                  "notTrustDomains",
                  new TypeSchema.ArraySchema(ScalarSchema.of(Scalar.STRING)))));

  /** The fields {@code owner} has beyond its model type's, with their schemas. */
  static Map<String, TypeSchema> aliases(Class<?> owner) {
    return ALIASES.getOrDefault(owner.getSimpleName(), Map.of());
  }

  private FieldFacts() {}

  static boolean isDuration(Class<?> owner, String field) {
    return DURATIONS.contains(owner.getSimpleName() + "." + field);
  }

  static Set<String> required(Class<?> owner) {
    String prefix = owner.getSimpleName() + ".";
    return REQUIRED.stream()
        .filter(key -> key.startsWith(prefix))
        .map(key -> key.substring(prefix.length()))
        .collect(Collectors.toSet());
  }

  static Optional<TypeSchema> override(Class<?> owner, String field) {
    return Optional.ofNullable(OVERRIDES.get(owner.getSimpleName() + "." + field));
  }
}
