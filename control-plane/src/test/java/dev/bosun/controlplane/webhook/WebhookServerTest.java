package dev.bosun.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SigningCa;
import dev.bosun.ca.WorkloadCertificateSigner;
import dev.bosun.controlplane.webhook.inject.InjectionPolicy;
import dev.bosun.controlplane.webhook.inject.InjectionSettings;
import dev.bosun.controlplane.webhook.inject.InjectionWebhook;
import dev.bosun.controlplane.webhook.inject.SidecarInjector;
import dev.bosun.crd.IstioJson;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code /validate} over HTTPS on loopback, called as the API server calls it: an AdmissionReview
 * v1 POSTed as JSON to a server whose certificate the caller checks against the mesh root.
 */
class WebhookServerTest {
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private SigningCa ca;
  private WebhookServer server;
  private HttpClient http;

  @BeforeEach
  void start() throws Exception {
    ca = SelfSignedRoot.generate("mesh", KeyAlgorithm.ecdsaP256(), Clock.systemUTC());
    KeyPair key = KeyAlgorithm.ecdsaP256().generate(new SecureRandom());
    X509Certificate serving =
        new WorkloadCertificateSigner(ca, Clock.systemUTC())
            .issueServing(
                key.getPublic(),
                List.of("istiod.istio-system.svc", "localhost"),
                Duration.ofHours(1));
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    keys.updateIdentityCredentials(
        new X509Certificate[] {serving, ca.signingCertificate()}, key.getPrivate());
    server =
        new WebhookServer(
                new InetSocketAddress("127.0.0.1", 0),
                keys,
                Map.of(
                    "/validate",
                    new ValidationWebhook(meters),
                    "/inject",
                    new InjectionWebhook(
                        new InjectionPolicy(true),
                        new SidecarInjector(
                            InjectionSettings.defaults("istio-system", ""),
                            JsonNodeFactory.instance::objectNode),
                        meters)))
            .start();
    http = HttpClient.newBuilder().sslContext(trusting(ca.signingCertificate())).build();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static SSLContext trusting(X509Certificate root) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setCertificateEntry("root", root);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, trust.getTrustManagers(), null);
    return tls;
  }

  private HttpResponse<String> post(String contentType, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("https://localhost:" + server.address().getPort() + "/validate"))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode review(String operation, String namespace, String objectYaml) throws Exception {
    ObjectNode review = IstioJson.json().createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", "705ab4f5-6393-11e8-b7cc-42010a800002");
    JsonNode object = IstioJson.yaml().readTree(objectYaml);
    String[] groupVersion = object.path("apiVersion").asText().split("/");
    request
        .putObject("kind")
        .put("group", groupVersion[0])
        .put("version", groupVersion[1])
        .put("kind", object.path("kind").asText());
    request
        .putObject("resource")
        .put("group", groupVersion[0])
        .put("version", groupVersion[1])
        .put("resource", object.path("kind").asText().toLowerCase() + "s");
    request.put("namespace", namespace);
    request.put("operation", operation);
    request.set("object", object);
    HttpResponse<String> response = post("application/json", review.toString());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode answer = IstioJson.json().readTree(response.body());
    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(answer.path("response").path("uid").asText())
        .as("the answer carries the request's uid")
        .isEqualTo("705ab4f5-6393-11e8-b7cc-42010a800002");
    return answer.path("response");
  }

  /** One valid and one invalid object per kind, with the message `bosun validate` gives. */
  static Stream<Arguments> kinds() {
    return Stream.of(
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http: [{route: [{destination: {host: reviews}, weight: 100}]}]
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http: [{route: [{destination: {host: reviews}, weight: -5}]}]
            """,
            "VirtualService shop/reviews: spec.http[0].route[0].weight: -5"),
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews}
            spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews}
            spec: {host: reviews, trafficPolicy: {loadBalancer: {simple: FASTEST}}}
            """,
            "DestinationRule shop/reviews: spec.trafficPolicy.loadBalancer.simple: \"FASTEST\": unknown value"),
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: ingress}
            spec:
              selector: {istio: ingressgateway}
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: ingress}
            spec:
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: []}]
            """,
            "Gateway shop/ingress: spec.servers[0].hosts"),
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api}
            spec:
              hosts: [api.example.com]
              ports: [{number: 443, name: https, protocol: TLS}]
              resolution: DNS
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api}
            spec:
              hosts: [api.example.com]
              ports: [{number: 70000, name: https, protocol: TLS}]
              resolution: DNS
            """,
            "ServiceEntry shop/api: spec.ports[0].number: 70000"),
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default}
            spec: {egress: [{hosts: ["./*", "istio-system/*"]}]}
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: Sidecar
            metadata: {name: default}
            spec: {egress: [{hosts: ["no-slash"]}]}
            """,
            "Sidecar shop/default: spec.egress[0].hosts[0]: \"no-slash\""),
        Arguments.of(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm}
            spec: {address: 10.0.0.7, labels: {app: vm}}
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm}
            spec: {address: 10.0.0.7, ports: {http: 0}}
            """,
            "WorkloadEntry shop/vm: spec.ports[http]: 0 (expected: a port number in 1-65535)"),
        Arguments.of(
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default}
            spec: {mtls: {mode: STRICT}}
            """,
            """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default}
            spec: {mtls: {mode: STRICTLY}}
            """,
            "PeerAuthentication shop/default: spec.mtls.mode: \"STRICTLY\": unknown value"),
        Arguments.of(
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow}
            spec: {action: ALLOW, rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}]}]}
            """,
            """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow}
            spec: {action: PERMIT}
            """,
            "AuthorizationPolicy shop/allow: spec.action: \"PERMIT\": unknown value"),
        Arguments.of(
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt}
            spec: {jwtRules: [{issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks"}]}
            """,
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt}
            spec: {jwtRules: [{audiences: [shop]}]}
            """,
            "RequestAuthentication shop/jwt: spec.jwtRules[0].issuer"));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void validate_eachKind_allowsValidAndDeniesInvalidWithValidatorMessages(
      String valid, String invalid, String messageStart) throws Exception {
    JsonNode allowed = review("CREATE", "shop", valid);
    assertThat(allowed.path("allowed").asBoolean()).as(allowed.toString()).isTrue();
    assertThat(allowed.has("status")).isFalse();

    JsonNode denied = review("UPDATE", "shop", invalid);
    assertThat(denied.path("allowed").asBoolean()).isFalse();
    String message = denied.path("status").path("message").asText();
    assertThat(message).startsWith(messageStart);
    assertThat(message.lines().toList())
        .as("exactly the validator's messages, one per line")
        .isEqualTo(
            dev.bosun.crd.validation.ConfigValidator.validate(withNamespace(invalid)).messages());
  }

  private static JsonNode withNamespace(String yaml) throws Exception {
    ObjectNode object = (ObjectNode) IstioJson.yaml().readTree(yaml);
    ((ObjectNode) object.path("metadata")).put("namespace", "shop");
    return object;
  }

  private static final String STRICT_MTLS =
      """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default}
      spec: {mtls: {mode: STRICT}}
      """;
  private static final String UNKNOWN_MTLS_MODE =
      """
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default}
      spec: {mtls: {mode: STRICTLY}}
      """;

  @Test
  void validate_deleteOrConnect_isAllowedUnchecked() throws Exception {
    JsonNode answer = review("DELETE", "shop", UNKNOWN_MTLS_MODE);
    assertThat(answer.path("allowed").asBoolean()).isTrue();
  }

  @Test
  void validate_istioKindBosunDoesNotModel_isAllowedWithAWarning() throws Exception {
    JsonNode answer =
        review(
            "CREATE",
            "shop",
            """
            apiVersion: extensions.istio.io/v1alpha1
            kind: TrafficExtension
            metadata: {name: lua-header}
            spec: {phase: AUTHN}
            """);
    assertThat(answer.path("allowed").asBoolean()).isTrue();
    assertThat(answer.path("warnings").get(0).asText())
        .isEqualTo("extensions.istio.io/v1alpha1 TrafficExtension is not validated by Bosun");
  }

  @Test
  void validate_kindBosunAcceptsButDoesNotApply_isValidatedLikeTheOthers() throws Exception {
    JsonNode answer =
        review(
            "CREATE",
            "istio-system",
            """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default}
            spec: {tracing: [{randomSamplingPercentage: 150}]}
            """);
    assertThat(answer.path("allowed").asBoolean()).isFalse();
    assertThat(answer.path("status").path("message").asText())
        .contains("spec.tracing[0].randomSamplingPercentage: 150 (expected: between 0 and 100)");
  }

  @Test
  void validate_requestWithoutObjectOrNotJson_isDeniedSayingWhy() throws Exception {
    JsonNode noObject =
        IstioJson.json()
            .readTree(
                post(
                        "application/json",
                        """
                        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
                         "request":{"uid":"u1","operation":"CREATE"}}
                        """)
                    .body());
    assertThat(noObject.path("response").path("uid").asText()).isEqualTo("u1");
    assertThat(noObject.path("response").path("allowed").asBoolean()).isFalse();
    assertThat(noObject.path("response").path("status").path("message").asText())
        .isEqualTo("cannot decode configuration: request.object is not an object");

    JsonNode notJson = IstioJson.json().readTree(post("application/json", "{not json").body());
    assertThat(notJson.path("response").path("allowed").asBoolean()).isFalse();
    assertThat(notJson.path("response").path("status").path("message").asText())
        .isEqualTo("could not decode body: not a JSON AdmissionReview");
  }

  @Test
  void validate_wrongContentTypeOrEmptyBody_isAnHttpErrorAndCounted() throws Exception {
    HttpResponse<String> yaml = post("application/yaml", "kind: AdmissionReview");
    assertThat(yaml.statusCode()).isEqualTo(415);
    assertThat(yaml.body()).contains("want `application/json`");
    HttpResponse<String> empty = post("application/json", "");
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(empty.body()).isEqualTo("no body found\n");
    assertThat(meters.scrape())
        .contains("galley_validation_http_error_total{status=\"415\"} 1.0")
        .contains("galley_validation_http_error_total{status=\"400\"} 1.0");
  }

  @Test
  void validate_countsPassedAndFailedWithIstiodsMetricNames() throws Exception {
    review("CREATE", "shop", STRICT_MTLS);
    review("CREATE", "shop", UNKNOWN_MTLS_MODE);
    assertThat(meters.scrape())
        .contains(
            "galley_validation_passed_total{group=\"security.istio.io\",resource=\"peerauthentications\",version=\"v1\"} 1.0")
        .contains(
            "galley_validation_failed_total{group=\"security.istio.io\",reason=\"invalid_config\",resource=\"peerauthentications\",version=\"v1\"} 1.0");
  }

  @Test
  void handshake_clientNotTrustingTheMeshRoot_fails() throws Exception {
    SigningCa other = SelfSignedRoot.generate("other", KeyAlgorithm.ecdsaP256(), Clock.systemUTC());
    HttpClient stranger =
        HttpClient.newBuilder().sslContext(trusting(other.signingCertificate())).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                stranger.send(
                    HttpRequest.newBuilder(
                            URI.create(
                                "https://localhost:" + server.address().getPort() + "/validate"))
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void inject_podCreate_isAllowedWithABase64JsonPatchOverHttps() throws Exception {
    String review =
        """
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
         "request": {"uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816",
           "kind": {"group": "", "version": "v1", "kind": "Pod"},
           "resource": {"group": "", "version": "v1", "resource": "pods"},
           "namespace": "shop", "operation": "CREATE",
           "object": {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"generateName": "web-", "namespace": "shop"},
             "spec": {"containers": [{"name": "web", "image": "example/web:1"}]}}}}
        """;
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + server.address().getPort() + "/inject"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(review))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode answer = IstioJson.json().readTree(response.body()).path("response");
    assertThat(answer.path("uid").asText()).isEqualTo("0df28fbd-5f5f-11e8-bc74-36e6bb280816");
    assertThat(answer.path("allowed").asBoolean()).isTrue();
    assertThat(answer.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch =
        IstioJson.json()
            .readTree(java.util.Base64.getDecoder().decode(answer.path("patch").asText()));
    assertThat(patch.toString()).contains("\"path\":\"/spec/initContainers\"", "istio-proxy");
    assertThat(meters.counter("sidecar_injection_success").count()).isEqualTo(1);
  }

  @Test
  void inject_wrongContentType_is415AndCountedAsAnInjectionFailure() throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + server.address().getPort() + "/inject"))
                .header("Content-Type", "text/yaml")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(415);
    assertThat(meters.counter("sidecar_injection_failure").count()).isEqualTo(1);
    assertThat(meters.find("galley_validation_http_error").counter()).isNull();
  }
}
