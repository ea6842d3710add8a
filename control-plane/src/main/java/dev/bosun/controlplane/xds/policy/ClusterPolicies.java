package dev.bosun.controlplane.xds.policy;

import com.google.protobuf.UInt32Value;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.ProtoDurations;
import dev.bosun.controlplane.xds.scope.ProxyView;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.fabric8.istio.api.api.networking.v1alpha3.ConnectionPoolSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHash;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHashLBHttpHeaderName;
import io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsSimple;
import io.fabric8.istio.api.api.networking.v1alpha3.Subset;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicyPortTrafficPolicy;
import java.util.Map;
import java.util.Optional;

/**
 * DestinationRule traffic policy as grpc-xds applies it to a cluster: the load balancer (round
 * robin, least request, ring hash for consistent hashing on a header), circuit breaking from the
 * connection pool, outlier detection, and subsets. Subset policy overrides the rule's, and a port's
 * settings override both, as in Istio.
 */
public final class ClusterPolicies {

  /** The rule and the effective policy for one cluster. */
  public record Policy(
      Optional<ConfigEntry> rule, Map<String, String> subsetLabels, TrafficPolicy traffic) {
    /**
     * The rule that decided it ({@code kind namespace/name}), "" for none: what makes two proxies'
     * policies for one cluster the same.
     */
    public String ruleName() {
      return rule.map(entry -> entry.key().toString()).orElse("");
    }
  }

  /**
   * The policy for {@code outbound|port|subset|host}; empty when the subset does not exist. It
   * depends on the proxy's namespace alone, so it is resolved once per namespace and snapshot.
   */
  public static Optional<Policy> policy(
      MeshSnapshot snapshot,
      ProxyView proxy,
      EnvoyNames.OutboundCluster cluster,
      String serviceNamespace) {
    String namespace = proxy.namespace();
    return snapshot.derived(
        java.util.List.of("cluster-policy", namespace, cluster, serviceNamespace),
        () -> resolve(snapshot, namespace, cluster, serviceNamespace));
  }

  private static Optional<Policy> resolve(
      MeshSnapshot snapshot,
      String namespace,
      EnvoyNames.OutboundCluster cluster,
      String serviceNamespace) {
    Optional<ConfigEntry> rule =
        snapshot.config().destinationRule(cluster.host(), namespace, serviceNamespace);
    if (rule.isEmpty()) {
      return cluster.subset().isEmpty()
          ? Optional.of(new Policy(rule, Map.of(), null))
          : Optional.empty();
    }
    DestinationRule spec = rule.get().spec(DestinationRule.class);
    TrafficPolicy traffic = forPort(spec.getTrafficPolicy(), cluster.port());
    Map<String, String> labels = Map.of();
    if (!cluster.subset().isEmpty()) {
      Subset subset =
          spec.getSubsets() == null
              ? null
              : spec.getSubsets().stream()
                  .filter(s -> cluster.subset().equals(s.getName()))
                  .findFirst()
                  .orElse(null);
      if (subset == null) {
        return Optional.empty();
      }
      labels = subset.getLabels() == null ? Map.of() : subset.getLabels();
      TrafficPolicy subsetPolicy = forPort(subset.getTrafficPolicy(), cluster.port());
      if (subsetPolicy != null) {
        traffic = traffic == null ? subsetPolicy : merge(traffic, subsetPolicy);
      }
    }
    return Optional.of(new Policy(rule, labels, traffic));
  }

  /** A policy with the settings of {@code port} from its portLevelSettings laid over it. */
  private static TrafficPolicy forPort(TrafficPolicy policy, int port) {
    if (policy == null || policy.getPortLevelSettings() == null) {
      return policy;
    }
    for (TrafficPolicyPortTrafficPolicy level : policy.getPortLevelSettings()) {
      if (level.getPort() != null
          && level.getPort().getNumber() != null
          && level.getPort().getNumber() == port) {
        TrafficPolicy overlay = new TrafficPolicy();
        overlay.setLoadBalancer(level.getLoadBalancer());
        overlay.setConnectionPool(level.getConnectionPool());
        overlay.setOutlierDetection(level.getOutlierDetection());
        overlay.setTls(level.getTls());
        return merge(policy, overlay);
      }
    }
    return policy;
  }

  /** Field groups set in {@code over} replace those of {@code base}. */
  private static TrafficPolicy merge(TrafficPolicy base, TrafficPolicy over) {
    TrafficPolicy merged = new TrafficPolicy();
    merged.setLoadBalancer(
        over.getLoadBalancer() != null ? over.getLoadBalancer() : base.getLoadBalancer());
    merged.setConnectionPool(
        over.getConnectionPool() != null ? over.getConnectionPool() : base.getConnectionPool());
    merged.setOutlierDetection(
        over.getOutlierDetection() != null
            ? over.getOutlierDetection()
            : base.getOutlierDetection());
    merged.setTls(over.getTls() != null ? over.getTls() : base.getTls());
    return merged;
  }

  /** Applies the policy to an EDS cluster. */
  public static void apply(Cluster.Builder cluster, TrafficPolicy traffic) {
    if (traffic == null) {
      return;
    }
    LoadBalancerSettings lb = traffic.getLoadBalancer();
    if (lb != null
        && lb.getLbPolicy() instanceof LoadBalancerSettingsSimple simple
        && simple.getSimple() != null) {
      switch (simple.getSimple()) {
        case LEAST_CONN, LEAST_REQUEST -> cluster.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
        default -> cluster.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
      }
    } else if (lb != null && lb.getLbPolicy() instanceof LoadBalancerSettingsConsistentHash) {
      cluster.setLbPolicy(Cluster.LbPolicy.RING_HASH);
    }
    ConnectionPoolSettings pool = traffic.getConnectionPool();
    if (pool != null) {
      CircuitBreakers.Thresholds.Builder thresholds = CircuitBreakers.Thresholds.newBuilder();
      boolean any = false;
      if (pool.getHttp() != null && pool.getHttp().getHttp2MaxRequests() != null) {
        thresholds.setMaxRequests(UInt32Value.of(pool.getHttp().getHttp2MaxRequests()));
        any = true;
      }
      if (pool.getHttp() != null && pool.getHttp().getHttp1MaxPendingRequests() != null) {
        thresholds.setMaxPendingRequests(
            UInt32Value.of(pool.getHttp().getHttp1MaxPendingRequests()));
        any = true;
      }
      if (pool.getTcp() != null && pool.getTcp().getMaxConnections() != null) {
        thresholds.setMaxConnections(UInt32Value.of(pool.getTcp().getMaxConnections()));
        any = true;
      }
      if (any) {
        cluster.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(thresholds));
      }
    }
    var outlier = traffic.getOutlierDetection();
    if (outlier != null) {
      cluster.setOutlierDetection(outlierDetection(outlier));
      // As istiod: with outlier detection the panic threshold is minHealthPercent (0 unless set),
      // so Envoy does not spread load over ejected hosts when few pods remain.
      int minHealthy =
          outlier.getMinHealthPercent() == null ? 0 : Math.max(0, outlier.getMinHealthPercent());
      cluster
          .getCommonLbConfigBuilder()
          .setHealthyPanicThreshold(
              io.envoyproxy.envoy.type.v3.Percent.newBuilder().setValue(minHealthy));
    }
  }

  /**
   * istiod's outlier detection: success-rate ejection off (Envoy and gRPC clients would otherwise
   * switch it on), each consecutive-error count enforced fully when set above 0, local-origin
   * errors split only when asked. The deprecated {@code consecutiveErrors} is ignored, as istiod
   * ignores it.
   */
  private static OutlierDetection.Builder outlierDetection(
      io.fabric8.istio.api.api.networking.v1alpha3.OutlierDetection outlier) {
    OutlierDetection.Builder built =
        OutlierDetection.newBuilder().setEnforcingSuccessRate(UInt32Value.of(0));
    Integer fiveXx = outlier.getConsecutive5xxErrors();
    if (fiveXx != null) {
      built.setConsecutive5Xx(UInt32Value.of(fiveXx));
      built.setEnforcingConsecutive5Xx(UInt32Value.of(fiveXx > 0 ? 100 : 0));
    }
    Integer gateway = outlier.getConsecutiveGatewayErrors();
    if (gateway != null) {
      built.setConsecutiveGatewayFailure(UInt32Value.of(gateway));
      built.setEnforcingConsecutiveGatewayFailure(UInt32Value.of(gateway > 0 ? 100 : 0));
    }
    ProtoDurations.of(outlier.getInterval()).ifPresent(built::setInterval);
    ProtoDurations.of(outlier.getBaseEjectionTime()).ifPresent(built::setBaseEjectionTime);
    if (outlier.getMaxEjectionPercent() != null && outlier.getMaxEjectionPercent() > 0) {
      built.setMaxEjectionPercent(UInt32Value.of(outlier.getMaxEjectionPercent()));
    }
    if (Boolean.TRUE.equals(outlier.getSplitExternalLocalOriginErrors())) {
      built.setSplitExternalLocalOriginErrors(true);
      Integer local = outlier.getConsecutiveLocalOriginFailures();
      if (local != null && local > 0) {
        built.setConsecutiveLocalOriginFailure(UInt32Value.of(local));
        built.setEnforcingConsecutiveLocalOriginFailure(UInt32Value.of(100));
      }
      built.setEnforcingLocalOriginSuccessRate(UInt32Value.of(0));
    }
    return built;
  }

  /** A ring hash needs a hash policy on the route: the header Istio hashes on. */
  public static Optional<RouteAction.HashPolicy> hashPolicy(TrafficPolicy traffic) {
    if (traffic == null
        || traffic.getLoadBalancer() == null
        || !(traffic.getLoadBalancer().getLbPolicy()
            instanceof LoadBalancerSettingsConsistentHash hash)) {
      return Optional.empty();
    }
    if (hash.getConsistentHash() != null
        && hash.getConsistentHash().getHashKey()
            instanceof LoadBalancerSettingsConsistentHashLBHttpHeaderName header) {
      return Optional.of(
          RouteAction.HashPolicy.newBuilder()
              .setHeader(
                  RouteAction.HashPolicy.Header.newBuilder()
                      .setHeaderName(header.getHttpHeaderName()))
              .build());
    }
    return Optional.empty();
  }

  static boolean inSubset(Endpoint endpoint, Map<String, String> labels) {
    return endpoint.matches(labels);
  }

  private ClusterPolicies() {}
}
