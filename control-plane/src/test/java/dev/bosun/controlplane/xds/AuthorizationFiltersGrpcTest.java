package dev.bosun.controlplane.xds;

import static dev.bosun.controlplane.xds.policy.AuthorizationFilters.ALLOW_FILTER;
import static dev.bosun.controlplane.xds.policy.AuthorizationFilters.DENY_FILTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.xds.policy.AuthorizationFilters;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.xds.InternalRbacFilter;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSession;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * The proxyless filters run through grpc-java's own RBAC engine (the one an xDS server builds from
 * the listener), in filter order, against calls with real peer certificates and addresses:
 * grpc-java accepts them, and decides as the policies say.
 */
class AuthorizationFiltersGrpcTest {
  private static final String POLICIES =
      """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: delete-only-from-ops, namespace: shop}
      spec:
        action: DENY
        rules:
        - from: [{source: {notNamespaces: [ops]}}]
          to: [{operation: {paths: [/shop.Reviews/Delete]}}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: reviews, namespace: shop}
      spec:
        rules:
        - from: [{source: {namespaces: [frontend, ops]}}]
          to: [{operation: {methods: [POST], paths: [/shop.Reviews/*]}}]
        - from: [{source: {ipBlocks: [10.9.0.0/16]}}]
          to: [{operation: {paths: [/grpc.health.v1.Health/Check]}}]
          when: [{key: "request.headers[x-probe]", values: ["*"]}]
      """;

  private static final String SERVED = "served";

  private final List<String> warnings = new ArrayList<>();

  @Test
  void grpcJava_enforcesTheProxylessFilters_likeIstio() throws Exception {
    Map<String, ServerInterceptor> chain = interceptors(proxyless(POLICIES.split("---\n")));
    assertThat(chain).containsOnlyKeys(DENY_FILTER, ALLOW_FILTER);
    assertThat(warnings).isEmpty();

    X509Certificate frontend = peer("frontend");
    assertThat(decide(chain, frontend, "10.1.0.5", "shop.Reviews/Get", null)).isEqualTo(SERVED);
    assertThat(decide(chain, frontend, "10.1.0.5", "shop.Reviews/Delete", null))
        .isEqualTo(DENY_FILTER);
    assertThat(decide(chain, peer("ops"), "10.1.0.6", "shop.Reviews/Delete", null))
        .isEqualTo(SERVED);
    assertThat(decide(chain, peer("billing"), "10.1.0.7", "shop.Reviews/Get", null))
        .isEqualTo(ALLOW_FILTER);
    assertThat(decide(chain, frontend, "10.1.0.5", "shop.Ratings/Get", null))
        .isEqualTo(ALLOW_FILTER);

    String health = "grpc.health.v1.Health/Check";
    assertThat(decide(chain, null, "10.9.1.1", health, "kubelet")).isEqualTo(SERVED);
    assertThat(decide(chain, null, "10.9.1.1", health, null)).isEqualTo(ALLOW_FILTER);
    assertThat(decide(chain, null, "10.8.1.1", health, "kubelet")).isEqualTo(ALLOW_FILTER);
    // Without a certificate no namespace matches, so "not from ops" holds: DENY decides.
    assertThat(decide(chain, null, "10.9.1.1", "shop.Reviews/Delete", "kubelet"))
        .isEqualTo(DENY_FILTER);
  }

  /** One request of the matrix: who calls what, and which filter refuses it (or served). */
  private record Case(String namespace, String method, String expected) {}

  @Test
  void grpcJava_endUserConditionsFailClosed_auditIsSkipped_asATableOfRequests() throws Exception {
    Map<String, ServerInterceptor> chain =
        interceptors(
            proxyless(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: users, namespace: shop}
                spec:
                  rules:
                  - from: [{source: {requestPrincipals: ["*"]}}]
                  - from: [{source: {namespaces: [ops]}}]
                """,
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: banned, namespace: shop}
                spec:
                  action: DENY
                  rules:
                  - to: [{operation: {paths: [/shop.Reviews/Delete]}}]
                    when: [{key: "request.auth.claims[groups]", values: [banned]}]
                """,
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: audit-all, namespace: shop}
                spec:
                  action: AUDIT
                  rules: [{}]
                """));

    assertThat(chain).containsOnlyKeys(DENY_FILTER, ALLOW_FILTER);
    assertThat(warnings).hasSize(3);
    List<Case> table =
        List.of(
            // The token rule is left out: only ops is allowed, token or not.
            new Case("ops", "shop.Reviews/Get", SERVED),
            new Case("frontend", "shop.Reviews/Get", ALLOW_FILTER),
            // The claim condition is ignored: Delete is refused to everyone, banned or not.
            new Case("ops", "shop.Reviews/Delete", DENY_FILTER),
            new Case("frontend", "shop.Reviews/Delete", DENY_FILTER));
    for (Case row : table) {
      assertThat(decide(chain, peer(row.namespace()), "10.1.0.5", row.method(), null))
          .as("%s calling %s", row.namespace(), row.method())
          .isEqualTo(row.expected());
    }
  }

  @Test
  void grpcJava_deniesWhatACustomPolicyMatches_sinceNoProviderCanDecide() throws Exception {
    Map<String, ServerInterceptor> chain =
        interceptors(
            proxyless(
                """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ext-authz, namespace: shop}
                spec:
                  action: CUSTOM
                  provider: {name: opa}
                  rules: [{to: [{operation: {paths: [/shop.Reviews/Delete]}}]}]
                """));

    assertThat(chain).containsOnlyKeys(DENY_FILTER);
    X509Certificate frontend = peer("frontend");
    assertThat(decide(chain, frontend, "10.1.0.5", "shop.Reviews/Delete", null))
        .isEqualTo(DENY_FILTER);
    assertThat(decide(chain, frontend, "10.1.0.5", "shop.Reviews/Get", null)).isEqualTo(SERVED);
  }

  @Test
  void grpcJava_acceptsEveryFieldTheProxylessFiltersUse() {
    List<HttpFilter> filters =
        proxyless(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: everything, namespace: shop}
            spec:
              rules:
              - from:
                - source:
                    principals: [cluster.local/ns/shop/sa/web, "*-admin", ops*, "*"]
                    notPrincipals: [cluster.local/ns/shop/sa/batch]
                    namespaces: [frontend, "*"]
                    notNamespaces: [test]
                    ipBlocks: [10.0.0.0/8, "2001:db8::1"]
                    notIpBlocks: [10.1.0.0/16]
                    remoteIpBlocks: [192.168.0.0/16]
                    notRemoteIpBlocks: [192.168.1.0/24]
                - source: {serviceAccounts: [web, ops/deploy], notServiceAccounts: [batch]}
                to:
                - operation:
                    hosts: [reviews, "*.shop", "reviews.*", "*"]
                    notHosts: [evil.shop]
                    methods: [POST, "*"]
                    notMethods: [GET]
                    paths: [/shop.Reviews/Get, /shop.Reviews/*, "*/Get", "*"]
                    notPaths: [/shop.Reviews/Delete]
                    ports: ["9080"]
                    notPorts: ["15000"]
                when:
                - {key: "request.headers[x-tenant]", values: [acme, "a*", "*z", "*"], notValues: [evil]}
                - {key: source.ip, values: [10.0.0.0/8], notValues: [10.0.0.1]}
                - {key: remote.ip, values: [10.0.0.0/8]}
                - {key: source.namespace, values: [frontend]}
                - {key: source.principal, values: [cluster.local/ns/shop/sa/web]}
                - {key: source.serviceAccount, values: [shop/web]}
                - {key: source.trustDomain, values: [cluster.local, "*.corp", "*"]}
                - {key: destination.ip, values: [10.0.0.9]}
                - {key: destination.port, values: ["9080"], notValues: ["9090"]}
              - {}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: nothing, namespace: shop}
            spec: {}
            """
                .split("---\n"));

    assertThat(warnings).isEmpty();
    assertThat(interceptors(filters)).hasSize(1);
  }

  @Test
  void grpcJava_rejectsWhatOnlyEnvoyIsSent_whichIsWhyProxylessLeavesItOut() {
    ConfigEntry grpcHeader =
        AuthorizationFiltersTest.entry(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: reviews, namespace: shop}
            spec:
              rules: [{when: [{key: "request.headers[grpc-timeout]", values: ["*"]}]}]
            """);
    List<HttpFilter> envoy =
        AuthorizationFilters.httpFilters(
            List.of(grpcHeader), "cluster.local", false, warnings::add);

    assertThatThrownBy(() -> interceptors(envoy)).hasMessageContaining("grpc-");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private List<HttpFilter> proxyless(String... documents) {
    List<ConfigEntry> entries = new ArrayList<>();
    for (String document : documents) {
      entries.add(AuthorizationFiltersTest.entry(document));
    }
    return AuthorizationFilters.httpFilters(entries, "cluster.local", true, warnings::add);
  }

  /** The filters as grpc-java builds them from a listener; it throws on config it would NACK. */
  private static Map<String, ServerInterceptor> interceptors(List<HttpFilter> filters) {
    Map<String, ServerInterceptor> chain = new LinkedHashMap<>();
    for (HttpFilter filter : filters) {
      AuthorizationFiltersTest.httpRbac(filter);
      try {
        chain.put(
            filter.getName(),
            InternalRbacFilter.createInterceptor(
                io.grpc.xds.shaded.io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC
                    .parseFrom(filter.getTypedConfig().getValue())));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return chain;
  }

  /** Runs a call through the chain as the server would: the filter that denied it, or SERVED. */
  private static String decide(
      Map<String, ServerInterceptor> chain,
      X509Certificate peer,
      String peerIp,
      String method,
      String probeHeader)
      throws Exception {
    Attributes.Builder attributes =
        Attributes.newBuilder()
            .set(
                Grpc.TRANSPORT_ATTR_REMOTE_ADDR,
                new InetSocketAddress(InetAddress.getByName(peerIp), 40000))
            .set(
                Grpc.TRANSPORT_ATTR_LOCAL_ADDR,
                new InetSocketAddress(InetAddress.getByName("10.0.0.9"), 9080));
    if (peer != null) {
      attributes.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session(peer));
    }
    Metadata headers = new Metadata();
    if (probeHeader != null) {
      headers.put(Metadata.Key.of("x-probe", Metadata.ASCII_STRING_MARSHALLER), probeHeader);
    }
    Call call = new Call(method, attributes.build());
    for (Map.Entry<String, ServerInterceptor> filter : chain.entrySet()) {
      boolean[] passed = {false};
      filter
          .getValue()
          .interceptCall(
              call,
              headers,
              (c, h) -> {
                passed[0] = true;
                return new ServerCall.Listener<>() {};
              });
      if (!passed[0]) {
        assertThat(call.closed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        return filter.getKey();
      }
    }
    return SERVED;
  }

  /** A workload certificate as Istio issues it: the SPIFFE id as the only URI SAN. */
  private static X509Certificate peer(String namespace) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    KeyPair keys = generator.generateKeyPair();
    X500Name subject = new X500Name("O=cluster.local");
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.ONE,
            new Date(0),
            new Date(4_000_000_000_000L),
            subject,
            keys.getPublic());
    String id = "spiffe://cluster.local/ns/" + namespace + "/sa/default";
    builder.addExtension(
        Extension.subjectAlternativeName,
        true,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id)));
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }

  /** Only the peer certificates are read from the TLS session. */
  private static SSLSession session(X509Certificate peer) {
    return (SSLSession)
        Proxy.newProxyInstance(
            SSLSession.class.getClassLoader(),
            new Class<?>[] {SSLSession.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "getPeerCertificates" -> new Certificate[] {peer};
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "equals" -> proxy == args[0];
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }

  /** A server call for one method on one connection; records how it was closed. */
  private static final class Call extends ServerCall<Object, Object> {
    private static final MethodDescriptor.Marshaller<Object> NONE =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Object value) {
            return InputStream.nullInputStream();
          }

          @Override
          public Object parse(InputStream stream) {
            return null;
          }
        };

    private final MethodDescriptor<Object, Object> method;
    private final Attributes attributes;
    private Status closed;

    Call(String fullMethodName, Attributes attributes) {
      this.method =
          MethodDescriptor.newBuilder(NONE, NONE)
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(fullMethodName)
              .build();
      this.attributes = attributes;
    }

    @Override
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
      return method;
    }

    @Override
    public Attributes getAttributes() {
      return attributes;
    }

    @Override
    public String getAuthority() {
      return "reviews.shop:9080";
    }

    @Override
    public void close(Status status, Metadata trailers) {
      closed = status;
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(Object message) {}

    @Override
    public boolean isCancelled() {
      return false;
    }
  }
}
