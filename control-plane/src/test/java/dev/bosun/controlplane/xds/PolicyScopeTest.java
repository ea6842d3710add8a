package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.crd.IstioKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which AuthorizationPolicies reach a workload, as Istio scopes them. */
class PolicyScopeTest {
  private static final String POLICIES =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: mesh-wide, namespace: istio-system}
      spec: {action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: payments-everywhere, namespace: istio-system}
      spec:
        selector: {matchLabels: {app: payments}}
        action: DENY
        rules: [{to: [{operation: {paths: [/debug]}}]}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: payments-here, namespace: shop}
      spec:
        selector: {matchLabels: {app: payments}}
        rules: [{}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: other-namespace, namespace: cart}
      spec:
        selector: {matchLabels: {app: payments}}
        rules: [{}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: for-the-gateway, namespace: shop}
      spec:
        targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: shop-gateway}]
        rules: [{}]
      ---
      """;

  private static List<String> names(Map<String, String> labels) {
    MeshSnapshot snapshot = TestSnapshots.of("policies.yaml", POLICIES);
    return snapshot.config().policies(IstioKind.AUTHORIZATION_POLICY, "shop", labels).stream()
        .map(ConfigEntry::key)
        .map(key -> key.namespace() + "/" + key.name())
        .toList();
  }

  @Test
  void rootNamespaceSelector_reachesMatchingWorkloadsInEveryNamespace() {
    assertThat(names(Map.of("app", "payments")))
        .containsExactlyInAnyOrder(
            "istio-system/mesh-wide", "istio-system/payments-everywhere", "shop/payments-here");
    assertThat(names(Map.of("app", "cart"))).containsExactly("istio-system/mesh-wide");
  }

  @Test
  void targetRefPolicies_areForTheirTargets_notForWorkloads() {
    assertThat(names(Map.of("app", "payments"))).doesNotContain("shop/for-the-gateway");
  }
}
