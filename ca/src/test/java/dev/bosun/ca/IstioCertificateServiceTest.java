package dev.bosun.ca;

import static dev.bosun.ca.TestPki.CLOCK;
import static dev.bosun.ca.TestPki.csr;
import static dev.bosun.ca.TestPki.ec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.bosun.ca.TokenAuthenticator.AuthenticationException;
import dev.bosun.ca.TokenAuthenticator.CallerIdentity;
import dev.bosun.ca.api.IstioCertificateRequest;
import dev.bosun.ca.api.IstioCertificateResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code CreateCertificate} over a real gRPC channel: the token decides the identity, and every
 * refusal has its status and a message saying what to fix.
 */
class IstioCertificateServiceTest {
  private static final SigningCa CA =
      SelfSignedRoot.generate("cluster.local", KeyAlgorithm.ecdsaP256(), CLOCK);
  private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

  /** Tokens the test's stand-in for the API server knows. */
  private static final TokenAuthenticator TOKENS =
      token -> {
        if (token == null) {
          throw new AuthenticationException("no bearer token in the authorization header");
        }
        return switch (token) {
          case "frontend-token" -> new CallerIdentity("shop", "frontend");
          case "cart-token" -> new CallerIdentity("shop", "cart");
          case "busy-token" -> throw new TokenAuthenticator.Overloaded("16 reviews in flight");
          default -> throw new AuthenticationException("the token is not authenticated");
        };
      };

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    start(1000, 1000);
  }

  private void start(double ratePerIdentity, int burst) throws Exception {
    stop();
    String name = InProcessServerBuilder.generateName();
    WorkloadCertificateSigner signer = new WorkloadCertificateSigner(CA, CLOCK);
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                new IstioCertificateService(
                    TOKENS, () -> signer, "cluster.local", ratePerIdentity, burst, meters))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  private IstioCertificateResponse call(String token, String csr, long validitySeconds) {
    Metadata headers = new Metadata();
    if (token != null) {
      headers.put(
          Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    }
    return ClientCalls.blockingUnaryCall(
        io.grpc.ClientInterceptors.intercept(
            channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
        IstioCertificateService.CREATE_CERTIFICATE,
        CallOptions.DEFAULT,
        IstioCertificateRequest.newBuilder()
            .setCsr(csr)
            .setValidityDuration(validitySeconds)
            .build());
  }

  private Status refusal(String token, String csr, long validitySeconds) {
    return catchThrowableOfType(
            StatusRuntimeException.class, () -> call(token, csr, validitySeconds))
        .getStatus();
  }

  private double count(String name) {
    return meters.get(name).counter().count();
  }

  @Test
  void issuesACertificateForTheTokensIdentity_leafFirstRootLast() throws Exception {
    IstioCertificateResponse response = call("frontend-token", csr(ec("frontend"), FRONTEND), 0);

    assertThat(response.getCertChainList()).hasSize(2);
    X509Certificate leaf = Pem.certificates(response.getCertChain(0)).get(0);
    X509Certificate root = Pem.certificates(response.getCertChain(1)).get(0);
    assertThat(root).isEqualTo(CA.signingCertificate());
    leaf.verify(root.getPublicKey());
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, FRONTEND));
    assertThat(leaf.getNotAfter()).isEqualTo(Date.from(CLOCK.instant().plus(Duration.ofHours(24))));
    assertThat(count("citadel_server_csr_count")).isEqualTo(1);
    assertThat(count("citadel_server_success_cert_issuance_count")).isEqualTo(1);
  }

  @Test
  void requestedValidityIsHonoured() throws Exception {
    IstioCertificateResponse response = call("frontend-token", csr(ec("frontend"), FRONTEND), 3600);
    X509Certificate leaf = Pem.certificates(response.getCertChain(0)).get(0);
    assertThat(leaf.getNotAfter()).isEqualTo(Date.from(CLOCK.instant().plusSeconds(3600)));
  }

  @Test
  void noToken_isUnauthenticated() {
    Status status = refusal(null, csr(ec("frontend"), FRONTEND), 0);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription())
        .isEqualTo("authentication failed: no bearer token in the authorization header");
    assertThat(count("citadel_server_authentication_failure_count")).isEqualTo(1);
  }

  @Test
  void unknownToken_isUnauthenticated() {
    Status status = refusal("forged", csr(ec("frontend"), FRONTEND), 0);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription())
        .isEqualTo("authentication failed: the token is not authenticated");
  }

  @Test
  void csrNamingAnotherIdentity_isPermissionDenied() {
    Status status = refusal("cart-token", csr(ec("cart"), FRONTEND), 0);
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription())
        .contains(FRONTEND)
        .contains("spiffe://cluster.local/ns/shop/sa/cart");
    assertThat(count("citadel_server_id_extraction_err_count")).isEqualTo(1);
  }

  @Test
  void malformedCsr_forgedCsr_weakKey_tooLong_negative_areInvalidArgument() {
    Map<String, Status> refusals =
        Map.of(
            "malformed",
            refusal("frontend-token", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", 0),
            "forged",
            refusal("frontend-token", TestPki.forgedCsr(ec("a"), ec("b"), FRONTEND), 0),
            "rsa-1024",
            refusal("frontend-token", csr(TestPki.rsa("weak", 1024), FRONTEND), 0),
            "too-long",
            refusal("frontend-token", csr(ec("frontend"), FRONTEND), 91L * 24 * 3600),
            "negative",
            refusal("frontend-token", csr(ec("frontend"), FRONTEND), -1));
    refusals.forEach(
        (name, status) ->
            assertThat(status.getCode()).as(name).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(refusals.get("rsa-1024").getDescription()).contains("1024");
    assertThat(refusals.get("too-long").getDescription())
        .isEqualTo("requested TTL 91d is longer than the maximum workload certificate TTL 90d");
    assertThat(refusals.get("negative").getDescription())
        .isEqualTo("validity_duration: -1 (expected: seconds >= 0)");
    assertThat(count("citadel_server_csr_parsing_err_count")).isEqualTo(5);
  }

  @Test
  void tokenThatCannotBeCheckedNow_isUnavailable_notUnauthenticated() {
    Status status = refusal("busy-token", csr(ec("cart"), FRONTEND), 0);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("cannot authenticate now: 16 reviews in flight");
    assertThat(count("bosun_ca_authentication_unavailable_count")).isEqualTo(1);
    assertThat(count("citadel_server_authentication_failure_count")).isZero();
  }

  /** A service with {@code limits} before authentication and none worth mentioning after. */
  private static IstioCertificateService admitting(IstioCertificateService.AdmissionLimits limits) {
    return new IstioCertificateService(
        TOKENS, () -> null, "cluster.local", 1000, 1000, limits, new SimpleMeterRegistry());
  }

  @Test
  void callsBeyondTheAdmissionLimits_areRefusedBeforeTheirTokenIsChecked() {
    IstioCertificateService perAddress =
        admitting(new IstioCertificateService.AdmissionLimits(0.001, 2, 1000, 1000));
    assertThatCode(() -> perAddress.admit("10.0.0.1")).doesNotThrowAnyException();
    assertThatCode(() -> perAddress.admit("10.0.0.1")).doesNotThrowAnyException();
    assertThat(
            catchThrowableOfType(StatusException.class, () -> perAddress.admit("10.0.0.1"))
                .getStatus())
        .satisfies(s -> assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(
            s ->
                assertThat(s.getDescription())
                    .isEqualTo("too many certificate requests from 10.0.0.1; retry later"));
    assertThatCode(() -> perAddress.admit("10.0.0.2"))
        .as("another address has its own share")
        .doesNotThrowAnyException();

    IstioCertificateService total =
        admitting(new IstioCertificateService.AdmissionLimits(1000, 1000, 0.001, 2));
    assertThatCode(() -> total.admit("10.0.0.1")).doesNotThrowAnyException();
    assertThatCode(() -> total.admit("10.0.0.2")).doesNotThrowAnyException();
    assertThat(
            catchThrowableOfType(StatusException.class, () -> total.admit("10.0.0.3"))
                .getStatus()
                .getCode())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void aFloodFromOneIdentity_isRefusedForThatIdentityOnly() throws Exception {
    start(0.001, 2); // a burst of two, then one per 1,000 s
    call("frontend-token", csr(ec("frontend"), FRONTEND), 0);
    call("frontend-token", csr(ec("frontend"), FRONTEND), 0);

    Status status = refusal("frontend-token", csr(ec("frontend"), FRONTEND), 0);
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription())
        .startsWith("too many certificate requests for shop/frontend");
    assertThat(
            call("cart-token", csr(ec("cart"), "spiffe://cluster.local/ns/shop/sa/cart"), 0)
                .getCertChainCount())
        .as("another identity is not limited by frontend's flood")
        .isEqualTo(2);
    assertThat(count("bosun_ca_rate_limited_count")).isEqualTo(1);
  }
}
