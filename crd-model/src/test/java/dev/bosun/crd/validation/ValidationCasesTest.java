package dev.bosun.crd.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.crd.yaml.YamlDocument;
import dev.bosun.crd.yaml.YamlDocuments;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One case per validation rule, each with the exact messages a user sees, plus the cases Istio
 * accepts that a stricter reading of its docs would refuse. A case is a document as a user would
 * write it and every message the validator must report for it, in order. {@code /LONGREGEX} in a
 * document stands for a 1,031-character regex, {@code /BIGBODY} for a body of 1 MiB and a byte.
 */
class ValidationCasesTest {

  static Stream<Arguments> cases() {
    return Stream.of(
        invalid(
            "http route without route, redirect or directResponse",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - match:
                - uri: {prefix: /v1}
            """,
            "VirtualService default/reviews: spec.http[0]: has no route, redirect, directResponse or delegate (expected: exactly one of them)"),
        invalid(
            "route and redirect together",
            """
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                redirect: {uri: /elsewhere}
            """,
            "VirtualService default/reviews: spec.http[0]: sets both route and redirect (expected: only one of route, redirect, directResponse, delegate)"),
        invalid(
            "regex that is not RE2 (a lookahead)",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - match:
                - headers:
                    x-user: {regex: "^(?!admin).*$"}
                route:
                - destination: {host: reviews}
            """,
            "VirtualService default/reviews: spec.http[0].match[0].headers[x-user].regex: \"^(?!admin).*$\": not a valid RE2 regex: invalid or unsupported Perl syntax (expected: RE2 syntax)"),
        invalid(
            "regex longer than 1024 characters",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - match:
                - uri: {regex: "/LONGREGEX"}
                route:
                - destination: {host: reviews}
            """,
            "VirtualService default/reviews: spec.http[0].match[0].uri.regex: \"/"
                + "a".repeat(75)
                + "...: regex is 1031 characters long (expected: at most 1024 characters)"),
        invalid(
            "negative weight",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 105
                - destination: {host: reviews, subset: v2}
                  weight: -5
            """,
            "VirtualService default/reviews: spec.http[0].route[1].weight: -5: negative weight (expected: >= 0)"),
        invalid(
            "all weights zero",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              tcp:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 0
                - destination: {host: reviews, subset: v2}
                  weight: 0
            """,
            "VirtualService default/reviews: spec.tcp[0].route: all 2 weights are 0 (expected: at least one weight > 0)"),
        invalid(
            "mirrorPercentage over 100",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                mirror: {host: reviews-shadow}
                mirrorPercentage: {value: 100.5}
            """,
            "VirtualService default/reviews: spec.http[0].mirrorPercentage.value: 100.5 (expected: between 0 and 100)"),
        invalid(
            "removing the Host request header",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                headers:
                  request:
                    remove: [Host]
            """,
            "VirtualService default/reviews: spec.http[0].headers.request.remove[0]: \"Host\": the Host header cannot be removed or set on responses (expected: another header; rewrite the authority with headers.request.set or rewrite.authority)"),
        invalid(
            "setting Host on a response",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                  headers:
                    response:
                      set: {host: example.com}
            """,
            "VirtualService default/reviews: spec.http[0].route[0].headers.response.set[host]: \"host\": the Host header cannot be removed or set on responses (expected: another header; rewrite the authority with headers.request.set or rewrite.authority)"),
        invalid(
            "setting a pseudo-header",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                headers:
                  request:
                    add: {":path": /rewritten}
            """,
            "VirtualService default/reviews: spec.http[0].headers.request.add[:path]: \":path\": pseudo-header (expected: a header name without a ':' prefix)"),
        invalid(
            "destination host *",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: everything, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: "*"}
            """,
            "VirtualService default/everything: spec.http[0].route[0].destination.host: \"*\": wildcard-only host (expected: a host name, not \"*\")"),
        invalid(
            "duplicate subset names",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec:
              host: reviews
              subsets:
              - name: v1
                labels: {version: v1}
              - name: v1
                labels: {version: v2}
            """,
            "DestinationRule default/reviews: spec.subsets[1].name: \"v1\": duplicate subset name (expected: unique subset names)"),
        invalid(
            "invalid label key and value",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec:
              host: reviews
              subsets:
              - name: v1
                labels:
                  -version: v1
                  track: "not a valid value!"
            """,
            "DestinationRule default/reviews: spec.subsets[0].labels[-version]: \"-version\": invalid label key (expected: an optional DNS subdomain and '/', then at most 63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric)",
            "DestinationRule default/reviews: spec.subsets[0].labels[track]: \"not a valid value!\": invalid label value (expected: at most 63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric, or empty)"),
        invalid(
            "malformed durations",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                timeout: 1.5 seconds
                retries:
                  attempts: 3
                  perTryTimeout: 500us
            """,
            "VirtualService default/reviews: spec.http[0].timeout: \"1.5 seconds\": invalid duration (expected: a duration such as \"1.5s\", \"300ms\", \"1m\" or \"1h\")",
            "VirtualService default/reviews: spec.http[0].retries.perTryTimeout: \"500us\": duration too short (expected: a duration >= 1ms)"),
        invalid(
            "ports out of range",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: external-api, namespace: default}
            spec:
              hosts: [api.example.com]
              resolution: DNS
              ports:
              - {number: 0, name: http, protocol: HTTP}
              - {number: 70000, name: https, protocol: HTTPS}
            """,
            "ServiceEntry default/external-api: spec.ports[0].number: 0 (expected: a port number in 1-65535)",
            "ServiceEntry default/external-api: spec.ports[1].number: 70000 (expected: a port number in 1-65535)"),
        invalid(
            "unknown enum value",
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec:
              host: reviews
              trafficPolicy:
                loadBalancer: {simple: FASTEST}
                tls: {mode: ISTIO_MUTAL}
            """,
            "DestinationRule default/reviews: spec.trafficPolicy.loadBalancer.simple: \"FASTEST\": unknown value (expected: one of LEAST_CONN, LEAST_REQUEST, PASSTHROUGH, RANDOM, ROUND_ROBIN, UNSPECIFIED)",
            "DestinationRule default/reviews: spec.trafficPolicy.tls.mode: \"ISTIO_MUTAL\": unknown value (expected: one of DISABLE, ISTIO_MUTUAL, MUTUAL, SIMPLE)"),
        invalid(
            "unknown fields",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hostz: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                  wieght: 100
            """,
            "VirtualService default/reviews: spec.hostz: unknown field, did you mean \"hosts\"? (expected one of: exportTo, gateways, hosts, http, tcp, tls)",
            "VirtualService default/reviews: spec.http[0].route[0].wieght: unknown field, did you mean \"weight\"? (expected one of: destination, headers, weight)"),
        invalid(
            "gateway without servers",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: istio-ingress}
            spec:
              selector: {istio: ingressgateway}
            """,
            "Gateway istio-ingress/public: spec.servers: missing (expected: at least one server)"),
        invalid(
            "HTTPS server without TLS",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: istio-ingress}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: ["*.example.com"]
            """,
            "Gateway istio-ingress/public: spec.servers[0].tls: missing (expected: TLS settings for an HTTPS server)"),
        valid(
            "HTTPS passthrough, and an HTTP server that only redirects",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: istio-ingress}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: [nginx.example.com]
                tls: {mode: PASSTHROUGH}
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [nginx.example.com]
                tls: {httpsRedirect: true}
            """),
        invalid(
            "ISTIO_MUTUAL with a credentialName",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: egress, namespace: istio-egress}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: [api.example.com]
                tls: {mode: ISTIO_MUTUAL, credentialName: api-cert}
            """,
            "Gateway istio-egress/egress: spec.servers[0].tls.credentialName: set with mode ISTIO_MUTUAL (expected: none; ISTIO_MUTUAL uses the gateway's workload certificate)"),
        invalid(
            "TLS settings on a TCP server, a targetPort and no port name",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: istio-ingress}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 9000, protocol: TCP, targetPort: 9000}
                hosts: ["*"]
                tls: {httpsRedirect: true}
            """,
            "Gateway istio-ingress/public: spec.servers[0].port.name: missing (expected: a value; the field is required)",
            "Gateway istio-ingress/public: spec.servers[0].port.targetPort: has no effect on a Gateway (expected: no targetPort; the gateway Service's targetPort decides the port listened on)",
            "Gateway istio-ingress/public: spec.servers[0].tls: set on a TCP server (expected: TLS settings only on HTTPS or TLS servers; an HTTP server may set httpsRedirect)"),
        valid(
            "what istiod accepts: a Unix-socket server with port 0, UDP and HTTP_PROXY servers",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: edge, namespace: istio-ingress}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 0, name: uds, protocol: HTTP}
                bind: unix:///var/run/gateway.sock
                hosts: ["*"]
              - port: {number: 53, name: dns, protocol: UDP}
                hosts: ["*"]
              - port: {number: 3128, name: proxy, protocol: HTTP_PROXY}
                hosts: ["*"]
            """),
        valid(
            "Sidecar egress exclusions (~namespace/host)",
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: shop}
            spec:
              egress:
              - hosts: ["*/*", "~istio-system/*", "~shop/internal.shop.svc.cluster.local", "~/*.internal"]
            """),
        valid(
            "a JWT rule with only jwksUri",
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt, namespace: shop}
            spec:
              jwtRules:
              - jwksUri: https://accounts.example.com/.well-known/jwks.json
            """),
        valid(
            "TCP idle timeout 0s disables it",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: idle, namespace: shop}
            spec:
              host: reviews
              trafficPolicy:
                connectionPool:
                  tcp: {idleTimeout: 0s}
            """),
        invalid(
            "a JWT rule with neither issuer nor jwksUri",
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt, namespace: shop}
            spec:
              jwtRules:
              - audiences: [shop]
            """,
            "RequestAuthentication shop/jwt: spec.jwtRules[0].issuer: missing (expected: an issuer (or a jwksUri) such as https://accounts.example.com)"),
        invalid(
            "source.trustDomain with a wildcard inside or a slash",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: td, namespace: shop}
            spec:
              rules:
              - when:
                - key: source.trustDomain
                  values: [cluster.local, "*.corp", "a*b.corp", cluster.local/ns]
            """,
            "AuthorizationPolicy shop/td: spec.rules[0].when[0].values[2]: \"a*b.corp\" (expected: a trust domain such as cluster.local, with * only at its start or end)",
            "AuthorizationPolicy shop/td: spec.rules[0].when[0].values[3]: \"cluster.local/ns\" (expected: a trust domain such as cluster.local, with * only at its start or end)"),
        valid(
            "a ring hash larger than 2^32 (Istio's minimumRingSize is uint64)",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ring, namespace: shop}
            spec:
              host: reviews
              trafficPolicy:
                loadBalancer:
                  consistentHash:
                    httpHeaderName: x-user
                    ringHash: {minimumRingSize: 5000000000}
            """),
        invalid(
            "ServiceEntry without hosts",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: external-api, namespace: default}
            spec:
              ports:
              - {number: 443, name: https, protocol: TLS}
              resolution: DNS
            """,
            "ServiceEntry default/external-api: spec.hosts: missing (expected: a value; the field is required)"),
        invalid(
            "DENY AuthorizationPolicy without rules",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-all-by-mistake, namespace: shop}
            spec:
              action: DENY
            """,
            "AuthorizationPolicy shop/deny-all-by-mistake: spec.rules: missing (expected: at least one rule for action DENY; a DENY policy without rules never matches, add an empty rule {} to deny every request)"),
        invalid(
            "port-level mTLS on a namespace-wide PeerAuthentication",
            """
            apiVersion: security.istio.io/v1beta1
            kind: PeerAuthentication
            metadata: {name: default, namespace: shop}
            spec:
              mtls: {mode: STRICT}
              portLevelMtls:
                "8080": {mode: DISABLE}
            """,
            "PeerAuthentication shop/default: spec.portLevelMtls: set on a mesh- or namespace-wide policy (expected: portLevelMtls only with spec.selector.matchLabels selecting workloads)"),
        invalid(
            "missing required field",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {subset: v1}
            """,
            "VirtualService default/reviews: spec.http[0].route[0].destination.host: missing (expected: a value; the field is required)"),
        invalid(
            "one-of conflict in a string match",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - match:
                - uri: {exact: /a, prefix: /b}
                route:
                - destination: {host: reviews}
            """,
            "VirtualService default/reviews: spec.http[0].match[0].uri: sets exact and prefix (expected: at most one of exact, prefix, regex)"),
        invalid(
            "wrong value type",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: reviews
              http:
              - route:
                - destination: {host: reviews}
                  weight: "50"
            """,
            "VirtualService default/reviews: spec.hosts: \"reviews\" (expected: a list)",
            "VirtualService default/reviews: spec.http[0].route[0].weight: \"50\" (expected: an integer between -2147483648 and 2147483647)"),
        invalid(
            "unsupported apiVersion",
            """
            apiVersion: networking.istio.io/v2
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
            """,
            "VirtualService default/reviews: apiVersion: \"networking.istio.io/v2\": unsupported version (expected: networking.istio.io/v1alpha3, networking.istio.io/v1beta1, networking.istio.io/v1)"),
        invalid(
            "invalid object name",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: Public_Gateway, namespace: istio-ingress}
            spec:
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: ["*"]
            """,
            "Gateway istio-ingress/Public_Gateway: metadata.name: \"Public_Gateway\" (expected: a lower-case DNS-1123 subdomain (a-z, 0-9, '-', '.'), at most 253 characters)"),
        invalid(
            "unknown retryOn policy and negative attempts",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                retries:
                  attempts: -1
                  retryOn: 5xx,on-error
            """,
            "VirtualService default/reviews: spec.http[0].retries.attempts: -1: negative retry attempts (expected: >= 0)",
            "VirtualService default/reviews: spec.http[0].retries.retryOn: \"on-error\": unknown retryOn policy (expected: an HTTP status code or one of 5xx, cancelled, connect-failure, deadline-exceeded, envoy-ratelimited, gateway-error, http3-post-connect-failure, internal, refused-stream, reset, reset-before-request, resource-exhausted, retriable-4xx, retriable-headers, retriable-status-codes, unavailable)"),
        invalid(
            "fault abort status out of range",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ratings, namespace: default}
            spec:
              hosts: [ratings]
              http:
              - route:
                - destination: {host: ratings}
                fault:
                  abort:
                    httpStatus: 700
                    percentage: {value: 10}
            """,
            "VirtualService default/ratings: spec.http[0].fault.abort.httpStatus: 700 (expected: an HTTP status code in 200-599)"),
        invalid(
            "redirect code not 3xx",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: legacy, namespace: default}
            spec:
              hosts: [legacy.example.com]
              gateways: [istio-ingress/public]
              http:
              - redirect: {uri: /new, redirectCode: 200}
            """,
            "VirtualService default/legacy: spec.http[0].redirect.redirectCode: 200 (expected: a 3xx redirect code)"),
        invalid(
            "wildcard host on the mesh gateway",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: catch-all, namespace: default}
            spec:
              hosts: ["*"]
              http:
              - route:
                - destination: {host: reviews}
            """,
            "VirtualService default/catch-all: spec.hosts[0]: \"*\": wildcard host \"*\" on the mesh gateway (expected: \"*\" only for VirtualServices bound to named gateways)"),
        invalid(
            "ServiceEntry resolution NONE with endpoints",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: db, namespace: default}
            spec:
              hosts: [db.example.com]
              ports:
              - {number: 5432, name: tcp-postgres, protocol: TCP}
              resolution: NONE
              endpoints:
              - address: 10.1.2.3
            """,
            "ServiceEntry default/db: spec.endpoints: set with resolution NONE (expected: no endpoints, or resolution STATIC or DNS)"),
        invalid(
            "Sidecar egress host without namespace",
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default, namespace: shop}
            spec:
              egress:
              - hosts: ["reviews.default.svc.cluster.local"]
            """,
            "Sidecar shop/default: spec.egress[0].hosts[0]: \"reviews.default.svc.cluster.local\" (expected: \"<namespace>/<host>\" with namespace \".\", \"*\", \"~\" or a namespace name)"),
        invalid(
            "AuthorizationPolicy with an unknown condition key",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: by-claim, namespace: shop}
            spec:
              rules:
              - when:
                - key: request.auth.claim[iss]
                  values: ["https://auth.example.com"]
            """,
            "AuthorizationPolicy shop/by-claim: spec.rules[0].when[0].key: \"request.auth.claim[iss]\": unknown condition key (expected: one of source.ip, remote.ip, source.namespace, source.principal, source.serviceAccount, source.trustDomain, request.auth.principal, request.auth.audiences, request.auth.presenter, destination.ip, destination.port, connection.sni, request.headers[<name>], request.auth.claims[<name>])"),
        invalid(
            "RequestAuthentication with a non-HTTP jwksUri",
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt, namespace: shop}
            spec:
              jwtRules:
              - issuer: https://auth.example.com
                jwksUri: ftp://auth.example.com/keys
            """,
            "RequestAuthentication shop/jwt: spec.jwtRules[0].jwksUri: \"ftp://auth.example.com/keys\" (expected: an http:// or https:// URL)"),
        invalid(
            "timeout below 1ms",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                timeout: 0.5ms
            """,
            "VirtualService default/reviews: spec.http[0].timeout: \"0.5ms\": duration too short (expected: a duration >= 1ms)"),
        invalid(
            "every problem of a document is reported",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec:
              host: reviews
              trafficPolicy:
                connectionPool:
                  tcp: {maxConnections: -1, connectTimeout: 10}
                  http: {http2MaxRequests: -10}
                outlierDetection:
                  interval: 5 minutes
                  maxEjectionPercent: 150
              subsets:
              - name: V1
            """,
            "DestinationRule default/reviews: spec.trafficPolicy.connectionPool.tcp.connectTimeout: 10 (expected: a duration string such as \"1.5s\", \"300ms\", \"1m\" or \"1h\")",
            "DestinationRule default/reviews: spec.trafficPolicy.outlierDetection.interval: \"5 minutes\": invalid duration (expected: a duration such as \"1.5s\", \"300ms\", \"1m\" or \"1h\")",
            "DestinationRule default/reviews: spec.trafficPolicy.connectionPool.tcp.maxConnections: -1 (expected: >= 0)",
            "DestinationRule default/reviews: spec.trafficPolicy.connectionPool.http.http2MaxRequests: -10 (expected: >= 0)",
            "DestinationRule default/reviews: spec.trafficPolicy.outlierDetection.maxEjectionPercent: 150 (expected: between 0 and 100)",
            "DestinationRule default/reviews: spec.subsets[0].name: \"V1\" (expected: a subset name (a DNS-1123 label))"),
        valid(
            "Host may be set on requests (Istio rewrites the authority)",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                headers:
                  request:
                    set: {Host: reviews.internal}
                    add: {":authority": reviews.internal}
            """),
        valid(
            "weights need not add up to 100",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: default}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 3
                - destination: {host: reviews, subset: v2}
                  weight: 1
            """),
        valid(
            "wildcard host on a VirtualService bound to a named gateway",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: catch-all, namespace: istio-ingress}
            spec:
              hosts: ["*"]
              gateways: [public]
              http:
              - route:
                - destination: {host: frontend.shop.svc.cluster.local}
            """),
        valid(
            "DENY with an empty rule denies everything",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-all, namespace: shop}
            spec:
              action: DENY
              rules:
              - {}
            """),
        valid(
            "port-level mTLS with a workload selector",
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: reviews, namespace: shop}
            spec:
              selector:
                matchLabels: {app: reviews}
              mtls: {mode: STRICT}
              portLevelMtls:
                "8080": {mode: DISABLE}
            """),
        invalid(
            "JWT claim routing on a VirtualService that applies to the mesh",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews]
              gateways: [mesh, shop/ingress]
              http:
              - match:
                - headers:
                    "@request.auth.claims.group": {exact: admins}
                  withoutHeaders:
                    "@request.auth.claims[tier]": {exact: free}
                    "@request.auth.claims.": {exact: ignored}
                route:
                - destination: {host: reviews}
            """,
            "VirtualService shop/reviews: spec.http[0].match[0].headers[\"@request.auth.claims.group\"]: \"@request.auth.claims.group\": JWT claim based routing on a VirtualService that applies to the mesh (expected: claim headers only when bound to gateways, without \"mesh\")",
            "VirtualService shop/reviews: spec.http[0].match[0].withoutHeaders[\"@request.auth.claims[tier]\"]: \"@request.auth.claims[tier]\": JWT claim based routing on a VirtualService that applies to the mesh (expected: claim headers only when bound to gateways, without \"mesh\")"),
        valid(
            "JWT claim routing on a VirtualService bound to a gateway only",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews.example.com]
              gateways: [shop/ingress]
              http:
              - match:
                - headers:
                    "@Request.Auth.Claims[group]": {exact: admins}
                route:
                - destination: {host: reviews.shop.svc.cluster.local}
            """),
        invalid(
            "SNI host outside the VirtualService's hosts",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: passthrough, namespace: shop}
            spec:
              hosts: ["*.example.com", api.shop.io]
              tls:
              - match:
                - port: 443
                  sniHosts: [a.example.com, "*.b.example.com", api.shop.io, other.io, "*.shop.io"]
                route:
                - destination: {host: a.example.com}
            """,
            "VirtualService shop/passthrough: spec.tls[0].match[0].sniHosts[3]: \"other.io\": not within any of the VirtualService's hosts [*.example.com, api.shop.io] (expected: one of the hosts, or a name under a wildcard host)",
            "VirtualService shop/passthrough: spec.tls[0].match[0].sniHosts[4]: \"*.shop.io\": not within any of the VirtualService's hosts [*.example.com, api.shop.io] (expected: one of the hosts, or a name under a wildcard host)"),
        invalid(
            "DestinationRule with a workload selector exported beyond its namespace",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
              workloadSelector:
                matchLabels: {app: frontend}
              exportTo: ["*"]
            """,
            "DestinationRule shop/reviews: spec.exportTo: \"*\": a DestinationRule with a workloadSelector exported beyond its own namespace (expected: \".\" (its own namespace) only)"),
        invalid(
            "DestinationRule with a workload selector exported to its namespace and another",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
              workloadSelector:
                matchLabels: {app: frontend}
              exportTo: [shop, billing]
            """,
            "DestinationRule shop/reviews: spec.exportTo: \".,billing\": a DestinationRule with a workloadSelector exported to more than its own namespace (expected: \".\" (its own namespace) alone)"),
        invalid(
            "empty principals, namespaces, methods and hosts in an AuthorizationPolicy",
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec:
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/shop/sa/web", ""]
                    notNamespaces: [""]
                to:
                - operation:
                    methods: [""]
                    hosts: [reviews, ""]
            """,
            "AuthorizationPolicy shop/reviews: spec.rules[0].from[0].source.principals[1]: \"\": an empty value (expected: a non-empty principals entry)",
            "AuthorizationPolicy shop/reviews: spec.rules[0].from[0].source.notNamespaces[0]: \"\": an empty value (expected: a non-empty notNamespaces entry)",
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.methods[0]: \"\": an empty value (expected: a non-empty methods entry)",
            "AuthorizationPolicy shop/reviews: spec.rules[0].to[0].operation.hosts[1]: \"\": an empty value (expected: a non-empty hosts entry)"),
        invalid(
            "header values Envoy would refuse: a newline, a lone %, an unfinished command",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: details, namespace: shop}
            spec:
              hosts: [details]
              http:
              - headers:
                  request:
                    set:
                      x-team: "a\\nb"
                      x-ok: "100%% %HOSTNAME% %REQ(x-id)% %START_TIME(%s)% %FILTER_STATE([\\"a\\", \\"b\\"])%"
                  response:
                    add:
                      x-rate: "abc%"
                      x-node: "%UPSTREAM_HOST"
                route:
                - destination: {host: details}
                  headers:
                    request:
                      set: {x-args: "%REQ(x-id%"}
            """,
            "VirtualService shop/details: spec.http[0].route[0].headers.request.set[x-args]: \"%REQ(x-id%\": un-terminated arguments in %REQ(x-id% (expected: literal text, %% for a %, and %COMMAND% forms)",
            "VirtualService shop/details: spec.http[0].headers.request.set[x-team]: \"a\\nb\": control character U+000A (expected: a header value without control characters (a tab aside))",
            "VirtualService shop/details: spec.http[0].headers.response.add[x-rate]: \"abc%\": un-escaped % at the end (expected: literal text, %% for a %, and %COMMAND% forms)",
            "VirtualService shop/details: spec.http[0].headers.response.add[x-node]: \"%UPSTREAM_HOST\": un-terminated variable expression %UPSTREAM_HOST (expected: literal text, %% for a %, and %COMMAND% forms)"),
        invalid(
            "consistent hash: maglev without a table size, deprecated ring size with a hash algorithm, duplicate cookie attributes",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
              trafficPolicy:
                loadBalancer:
                  consistentHash:
                    httpCookie:
                      name: session
                      attributes: [{name: SameSite, value: Strict}, {name: SameSite, value: Lax}]
                    minimumRingSize: 1024
                    maglev: {}
              subsets:
              - name: v1
                labels: {version: v1}
                trafficPolicy:
                  loadBalancer:
                    consistentHash:
                      useSourceIp: true
                      maglev: {tableSize: 5000011}
            """,
            "DestinationRule shop/reviews: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name: \"SameSite\": duplicate cookie attribute (expected: unique names)",
            "DestinationRule shop/reviews: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: missing (expected: a maglev table size, a prime such as 65537)",
            "DestinationRule shop/reviews: spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: set with maglev (expected: the deprecated minimumRingSize or a hash algorithm, not both)",
            "DestinationRule shop/reviews: spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: 5000011: larger than Envoy's maglev tables (expected: a prime below 5000011)"),
        invalid(
            "EnvoyFilter patches without an operation or value, a subFilter outside HTTP_FILTER, a cluster patch matching a listener",
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: tweaks, namespace: shop}
            spec:
              configPatches:
              - applyTo: HTTP_FILTER
                patch: {value: {name: envoy.filters.http.lua}}
              - applyTo: CLUSTER
                match:
                  listener: {portNumber: 9080}
                patch: {operation: MERGE}
              - applyTo: NETWORK_FILTER
                match:
                  proxy: {proxyVersion: '^1\\.(2'}
                  listener:
                    filterChain:
                      filter:
                        name: envoy.filters.network.http_connection_manager
                        subFilter: {name: envoy.filters.http.router}
                patch: {operation: REMOVE}
              - patch: {operation: REMOVE}
            """,
            "EnvoyFilter shop/tweaks: spec.configPatches[0].patch.operation: missing (expected: a patch operation such as MERGE or INSERT_BEFORE)",
            "EnvoyFilter shop/tweaks: spec.configPatches[1].patch.value: missing (expected: a value for operation MERGE)",
            "EnvoyFilter shop/tweaks: spec.configPatches[1].match: matches no cluster (expected: a cluster match for CLUSTER)",
            "EnvoyFilter shop/tweaks: spec.configPatches[2].match.proxy.proxyVersion: \"^1\\\\.(2\": not a valid RE2 regex: missing closing ) (expected: RE2 syntax)",
            "EnvoyFilter shop/tweaks: spec.configPatches[2].match.listener.filterChain.filter.subFilter: set with applyTo NETWORK_FILTER (expected: only with HTTP_FILTER)",
            "EnvoyFilter shop/tweaks: spec.configPatches[3].applyTo: missing (expected: what the patch applies to, such as HTTP_FILTER)"),
        invalid(
            "Telemetry with two tracing providers, sampling over 100, a tag with two sources, an UPSERT without a value",
            """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              tracing:
              - providers: [{name: zipkin}, {name: otel}]
                randomSamplingPercentage: 150
                customTags:
                  both: {literal: {value: a}, header: {name: x-a}}
              metrics:
              - providers: [{name: ""}]
                overrides:
                - tagOverrides:
                    request_host: {operation: UPSERT}
                    source_app: {operation: REMOVE, value: x}
            """,
            "Telemetry istio-system/mesh-default: spec.tracing[0].customTags[both]: sets header and literal (expected: at most one of environment, header, literal)",
            "Telemetry istio-system/mesh-default: spec.metrics[0].providers[0].name: missing (expected: the name of a MeshConfig extension provider)",
            "Telemetry istio-system/mesh-default: spec.metrics[0].overrides[0].tagOverrides[request_host].value: missing (expected: a value (an expression) for operation UPSERT)",
            "Telemetry istio-system/mesh-default: spec.metrics[0].overrides[0].tagOverrides[source_app].value: set with operation REMOVE (expected: no value)",
            "Telemetry istio-system/mesh-default: spec.tracing[0].providers: names more than one provider (expected: at most one tracing provider)",
            "Telemetry istio-system/mesh-default: spec.tracing[0].randomSamplingPercentage: 150 (expected: between 0 and 100)"),
        invalid(
            "WasmPlugin with an unsupported URL scheme, a short sha256, a duplicate env, a HOST env with a value",
            """
            apiVersion: extensions.istio.io/v1alpha1
            kind: WasmPlugin
            metadata: {name: auth, namespace: shop}
            spec:
              url: ftp://plugins.example.com/auth.wasm
              sha256: abc123
              vmConfig:
                env:
                - {name: MODE, value: strict}
                - {name: MODE, value: lax}
                - {name: POD, valueFrom: HOST, value: x}
              match:
              - mode: SERVER
                ports: [{number: 70000}]
            """,
            "WasmPlugin shop/auth: spec.url: \"ftp://plugins.example.com/auth.wasm\": unsupported scheme ftp (expected: oci, http, https or file)",
            "WasmPlugin shop/auth: spec.sha256: \"abc123\" (expected: 64 lower-case hex characters)",
            "WasmPlugin shop/auth: spec.vmConfig.env[1].name: \"MODE\": duplicate env (expected: each name once)",
            "WasmPlugin shop/auth: spec.vmConfig.env[2].value: set with valueFrom HOST (expected: a value only with valueFrom INLINE)",
            "WasmPlugin shop/auth: spec.match[0].ports[0].number: 70000 (expected: a port number in 1-65535)"),
        invalid(
            "WasmPlugin match mode that is not a WorkloadMode",
            """
            apiVersion: extensions.istio.io/v1alpha1
            kind: WasmPlugin
            metadata: {name: auth, namespace: shop}
            spec:
              url: oci://ghcr.io/example/auth:1
              match:
              - mode: INBOUND
            """,
            "WasmPlugin shop/auth: spec.match[0].mode: \"INBOUND\": unknown value (expected: one of UNDEFINED, CLIENT, SERVER, CLIENT_AND_SERVER)"),
        invalid(
            "WorkloadGroup without a template, a negative probe period, an unknown scheme; ProxyConfig-style negatives",
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadGroup
            metadata: {name: vms, namespace: shop}
            spec:
              metadata:
                labels: {app: ledger}
              probe:
                periodSeconds: -1
                httpGet: {port: 8080, scheme: FTP}
            """,
            "WorkloadGroup shop/vms: spec.template: missing (expected: a WorkloadEntry template)",
            "WorkloadGroup shop/vms: spec.probe.periodSeconds: -1 (expected: >= 0)",
            "WorkloadGroup shop/vms: spec.probe.httpGet.scheme: \"FTP\" (expected: HTTP or HTTPS)"),
        invalid(
            "ProxyConfig with a negative concurrency",
            """
            apiVersion: networking.istio.io/v1beta1
            kind: ProxyConfig
            metadata: {name: shop, namespace: shop}
            spec:
              concurrency: -2
            """,
            "ProxyConfig shop/shop: spec.concurrency: -2 (expected: >= 0)"),
        invalid(
            "a label without a value (YAML ~), which the API server would drop",
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm-1, namespace: shop}
            spec:
              address: 10.9.0.1
              labels: {app: vm, tier: ~}
            """,
            "WorkloadEntry shop/vm-1: spec.labels[tier]: no value (expected: a string)"),
        invalid(
            "direct response body over 1 MiB",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: maintenance, namespace: shop}
            spec:
              hosts: [shop]
              http:
              - directResponse:
                  status: 503
                  body: {string: "/BIGBODY"}
            """,
            "VirtualService shop/maintenance: spec.http[0].directResponse.body: is 1048577 bytes (expected: at most 1 MiB; proxies take direct responses up to that size)"),
        invalid(
            "outlier detection counting local-origin failures without splitting them out",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
              trafficPolicy:
                outlierDetection:
                  consecutiveLocalOriginFailures: 3
            """,
            "DestinationRule shop/reviews: spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: set without splitExternalLocalOriginErrors (expected: splitExternalLocalOriginErrors: true, or no local-origin count)"),
        valid(
            "DestinationRule with a workload selector exported to its own namespace by name",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: shop}
            spec:
              host: reviews
              workloadSelector:
                matchLabels: {app: frontend}
              exportTo: [shop]
            """));
  }

  private static Arguments invalid(String name, String yaml, String... messages) {
    return Arguments.of(name, yaml, List.of(messages));
  }

  private static Arguments valid(String name, String yaml) {
    return Arguments.of("valid: " + name, yaml, List.of());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void validate_reportsExactMessages(String name, String yaml, List<String> expected) {
    String document =
        yaml.replace("/LONGREGEX", "/" + "a".repeat(1030))
            .replace("/BIGBODY", "x".repeat((1 << 20) + 1));
    List<YamlDocument> documents = YamlDocuments.parse(name, document);
    assertThat(documents).hasSize(1);
    assertThat(documents.get(0).error()).isEmpty();
    ValidationResult result = ConfigValidator.validate(documents.get(0).tree().get());
    assertThat(result.owned()).isTrue();
    assertThat(result.messages()).containsExactlyElementsOf(expected);
    assertThat(result.valid()).isEqualTo(expected.isEmpty());
  }
}
