package dev.bosun.controlplane.xds.policy;

import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.Locality;
import dev.bosun.controlplane.xds.scope.ProxyView;
import io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSetting;
import io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSettingDistribute;
import io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSettingFailover;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import java.util.List;
import java.util.Map;

/**
 * Istio's locality load balancing for one proxy and cluster: {@code distribute} turns into locality
 * weights; with outlier detection on, endpoints get failover priorities, by {@code
 * failoverPriority} labels when given, else by zone, region and the explicit {@code failover}
 * regions. Off when the rule says {@code enabled: false} or the proxy's locality is unknown. A
 * DestinationRule without a {@code localityLbSetting} uses the mesh config's, as Istio does.
 */
public final class LocalityPolicy {
  private final Locality proxy;
  private final Map<String, String> proxyLabels;
  private final LocalityLoadBalancerSetting setting;
  private final boolean failover;
  private final LocalityLoadBalancerSettingDistribute distribute;

  private LocalityPolicy(
      ProxyView view, TrafficPolicy traffic, LocalityLoadBalancerSetting meshDefault) {
    this.proxy = view == null ? Locality.UNKNOWN : view.locality();
    this.proxyLabels = view == null ? Map.of() : view.labels();
    LocalityLoadBalancerSetting own =
        traffic == null || traffic.getLoadBalancer() == null
            ? null
            : traffic.getLoadBalancer().getLocalityLbSetting();
    // The DestinationRule's setting, else the mesh config's (Istio's default: enabled).
    this.setting = own != null ? own : meshDefault;
    boolean enabled = setting == null || setting.getEnabled() == null || setting.getEnabled();
    boolean known = !proxy.region().isEmpty();
    this.distribute =
        enabled && known && setting != null
            ? matchingDistribute(setting.getDistribute(), proxy)
            : null;
    this.failover =
        enabled
            && known
            && distribute == null
            && traffic != null
            && traffic.getOutlierDetection() != null;
  }

  /** Whether any DestinationRule of the snapshot fails over by labels; computed once. */
  public static boolean anyReadsProxyLabels(dev.bosun.controlplane.snapshot.MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("failover-by-labels"),
        () ->
            hasFailoverPriority(snapshot.meshConfig().localityLbSetting())
                || snapshot.config().list(dev.bosun.crd.IstioKind.DESTINATION_RULE).stream()
                    .anyMatch(entry -> entry.document().findValue("failoverPriority") != null));
  }

  private static boolean hasFailoverPriority(LocalityLoadBalancerSetting setting) {
    return setting != null
        && setting.getFailoverPriority() != null
        && !setting.getFailoverPriority().isEmpty();
  }

  /** The policy without a mesh-wide default (as if the mesh config set none). */
  public static LocalityPolicy of(ProxyView proxy, TrafficPolicy traffic) {
    return new LocalityPolicy(proxy, traffic, null);
  }

  /**
   * The policy of {@code traffic}, or of the mesh config's {@code localityLbSetting} when the
   * DestinationRule has none.
   */
  public static LocalityPolicy of(
      ProxyView proxy, TrafficPolicy traffic, LocalityLoadBalancerSetting meshDefault) {
    return new LocalityPolicy(proxy, traffic, meshDefault);
  }

  /** The endpoint's priority (0 is tried first). */
  public int priority(Endpoint endpoint) {
    if (!failover) {
      return 0;
    }
    List<String> labels =
        setting == null || setting.getFailoverPriority() == null
            ? List.of()
            : setting.getFailoverPriority();
    if (!labels.isEmpty()) {
      int matched = 0;
      for (String label : labels) {
        String mine = proxyLabels.get(label);
        if (mine == null || !mine.equals(endpoint.labels().get(label))) {
          break;
        }
        matched++;
      }
      return labels.size() - matched;
    }
    Locality locality = endpoint.locality();
    if (proxy.region().equals(locality.region()) && proxy.zone().equals(locality.zone())) {
      return 0;
    }
    if (proxy.region().equals(locality.region())) {
      return 1;
    }
    if (setting != null && setting.getFailover() != null) {
      for (LocalityLoadBalancerSettingFailover rule : setting.getFailover()) {
        if (proxy.region().equals(rule.getFrom())) {
          return locality.region().equals(rule.getTo()) ? 2 : 3;
        }
      }
    }
    return 2;
  }

  /**
   * The locality's weight from {@code distribute}, -1 when distribute does not apply, 0 to exclude
   * it.
   */
  public int weight(Locality locality) {
    if (distribute == null || distribute.getTo() == null) {
      return -1;
    }
    for (Map.Entry<String, Long> to : distribute.getTo().entrySet()) {
      if (matches(to.getKey(), locality)) {
        return to.getValue().intValue();
      }
    }
    return 0;
  }

  private static LocalityLoadBalancerSettingDistribute matchingDistribute(
      List<LocalityLoadBalancerSettingDistribute> rules, Locality proxy) {
    if (rules == null) {
      return null;
    }
    return rules.stream()
        .filter(rule -> rule.getFrom() != null && matches(rule.getFrom(), proxy))
        .findFirst()
        .orElse(null);
  }

  /** {@code region/zone/subzone} with {@code *} wildcards, e.g. {@code us-west/zone1/*}. */
  static boolean matches(String pattern, Locality locality) {
    String[] parts = pattern.split("/", -1);
    String[] values = {locality.region(), locality.zone(), locality.subzone()};
    for (int i = 0; i < parts.length && i < 3; i++) {
      if (parts[i].equals("*")) {
        return true;
      }
      if (!parts[i].equals(values[i])) {
        return false;
      }
    }
    return true;
  }
}
