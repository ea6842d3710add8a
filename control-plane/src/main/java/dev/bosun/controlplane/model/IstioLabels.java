package dev.bosun.controlplane.model;

import java.util.Map;

/** Istio's well-known workload labels, in one place. */
public final class IstioLabels {
  private IstioLabels() {}

  /**
   * Set to {@code istio} by sidecar injection on pods that terminate Istio mTLS; clients use mTLS
   * to such endpoints when no DestinationRule says otherwise (auto mTLS).
   */
  public static final String TLS_MODE = "security.istio.io/tlsMode";

  /** The {@link #TLS_MODE} value of workloads with a sidecar (or a proxyless mTLS server). */
  public static final String TLS_MODE_ISTIO = "istio";

  /** Whether workload labels say it accepts Istio mTLS. */
  public static boolean istioMutualTls(Map<String, String> labels) {
    return TLS_MODE_ISTIO.equals(labels.get(TLS_MODE));
  }
}
