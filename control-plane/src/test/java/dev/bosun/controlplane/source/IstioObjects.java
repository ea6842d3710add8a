package dev.bosun.controlplane.source;

import java.util.List;

/** One valid object of every Istio kind, in namespace {@code shop}. */
final class IstioObjects {
  static final List<String> ALL =
      List.of(
          """
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: reviews, namespace: shop}
          spec:
            hosts: [reviews.shop.svc.cluster.local]
            http:
            - route:
              - destination: {host: reviews.shop.svc.cluster.local, subset: v1}
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: reviews, namespace: shop}
          spec:
            host: reviews.shop.svc.cluster.local
            subsets: [{name: v1, labels: {version: v1}}]
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: Gateway
          metadata: {name: public, namespace: shop}
          spec:
            selector: {istio: ingressgateway}
            servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: ServiceEntry
          metadata: {name: legacy, namespace: shop}
          spec:
            hosts: [legacy.shop.internal]
            location: MESH_INTERNAL
            resolution: STATIC
            ports: [{number: 8080, name: http, protocol: HTTP}]
            workloadSelector: {labels: {app: legacy}}
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: Sidecar
          metadata: {name: default, namespace: shop}
          spec:
            egress: [{hosts: ["./*", "istio-system/*"]}]
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: WorkloadEntry
          metadata: {name: legacy-vm, namespace: shop}
          spec: {address: 10.2.0.7, labels: {app: legacy}}
          """,
          """
          apiVersion: security.istio.io/v1
          kind: PeerAuthentication
          metadata: {name: default, namespace: shop}
          spec: {mtls: {mode: STRICT}}
          """,
          """
          apiVersion: security.istio.io/v1
          kind: AuthorizationPolicy
          metadata: {name: allow-frontend, namespace: shop}
          spec:
            selector: {matchLabels: {app: reviews}}
            rules: [{from: [{source: {namespaces: [frontend]}}]}]
          """,
          """
          apiVersion: security.istio.io/v1
          kind: RequestAuthentication
          metadata: {name: jwt, namespace: shop}
          spec:
            jwtRules: [{issuer: "https://auth.example.com", jwksUri: "https://auth.example.com/keys"}]
          """,
          """
          apiVersion: networking.istio.io/v1alpha3
          kind: EnvoyFilter
          metadata: {name: ratelimit, namespace: shop}
          spec:
            configPatches:
            - applyTo: HTTP_FILTER
              patch: {operation: INSERT_FIRST, value: {name: envoy.filters.http.local_ratelimit}}
          """,
          """
          apiVersion: networking.istio.io/v1beta1
          kind: ProxyConfig
          metadata: {name: defaults, namespace: shop}
          spec: {concurrency: 2}
          """,
          """
          apiVersion: networking.istio.io/v1
          kind: WorkloadGroup
          metadata: {name: vms, namespace: shop}
          spec:
            template: {serviceAccount: ledger}
          """,
          """
          apiVersion: telemetry.istio.io/v1
          kind: Telemetry
          metadata: {name: tracing, namespace: shop}
          spec:
            tracing: [{randomSamplingPercentage: 10}]
          """,
          """
          apiVersion: extensions.istio.io/v1alpha1
          kind: WasmPlugin
          metadata: {name: auth, namespace: shop}
          spec: {url: "oci://ghcr.io/example/auth:1"}
          """);

  private IstioObjects() {}
}
