package dev.bosun.ca;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import dev.bosun.ca.TokenAuthenticator.AuthenticationException;
import dev.bosun.ca.TokenAuthenticator.CallerIdentity;
import dev.bosun.ca.api.IstioCertificateRequest;
import dev.bosun.ca.api.IstioCertificateResponse;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code istio.v1.auth.IstioCertificateService/CreateCertificate}, as the Istio agent and proxyless
 * gRPC bootstraps call it: the bearer token in the {@code authorization} metadata is authenticated,
 * the caller's identity (never the CSR's) goes into the certificate, and each identity may ask only
 * so often.
 *
 * <p>Status codes: UNAUTHENTICATED for a missing or rejected token; PERMISSION_DENIED for a CSR
 * naming another identity; INVALID_ARGUMENT for a malformed CSR, an unsupported key, a negative or
 * too long validity; RESOURCE_EXHAUSTED when an identity exceeds its rate, or, before the token is
 * looked at, a peer address or all callers together exceed theirs ({@link AdmissionLimits});
 * UNAVAILABLE when the token cannot be checked now; INTERNAL when the CA cannot sign (for example,
 * its own certificate has expired).
 */
public final class IstioCertificateService implements BindableService {
  private static final Logger log = LoggerFactory.getLogger(IstioCertificateService.class);

  public static final String SERVICE_NAME = "istio.v1.auth.IstioCertificateService";

  public static final MethodDescriptor<IstioCertificateRequest, IstioCertificateResponse>
      CREATE_CERTIFICATE =
          MethodDescriptor.<IstioCertificateRequest, IstioCertificateResponse>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(SERVICE_NAME, "CreateCertificate"))
              .setRequestMarshaller(
                  ProtoUtils.marshaller(IstioCertificateRequest.getDefaultInstance()))
              .setResponseMarshaller(
                  ProtoUtils.marshaller(IstioCertificateResponse.getDefaultInstance()))
              .build();

  private static final Context.Key<String> TOKEN = Context.key("bosun-ca-bearer-token");
  private static final Context.Key<String> PEER = Context.key("bosun-ca-peer-address");

  /**
   * How often calls may come before their token is even looked at: from one peer address, and in
   * all. A flood of garbage tokens then costs the API server (TokenReview) and every workload's
   * certificates a bounded share, whoever sends it.
   */
  public record AdmissionLimits(
      double perAddressPerSecond, int perAddressBurst, double totalPerSecond, int totalBurst) {
    /** 20/s per address (burst 100), 500/s in all (burst 1000). */
    public static final AdmissionLimits DEFAULTS = new AdmissionLimits(20, 100, 500, 1000);
  }

  private final TokenAuthenticator authenticator;
  private final Supplier<WorkloadCertificateSigner> signer;
  private final String trustDomain;
  private final double requestsPerSecondPerIdentity;
  private final int burstPerIdentity;
  // One bucket per identity seen recently; idle identities are forgotten.
  private final Cache<CallerIdentity, Bucket> limiters =
      CacheBuilder.newBuilder()
          .expireAfterAccess(Duration.ofMinutes(10))
          .maximumSize(100_000)
          .build();
  private final Counter requests;
  private final Counter issued;
  private final Counter authenticationFailures;
  private final Counter parsingErrors;
  private final Counter identityErrors;
  private final Counter signErrors;
  private final Counter rateLimited;
  private final Counter overloaded;
  private final AdmissionLimits admission;
  private final Bucket total;
  // One bucket per peer address seen recently.
  private final Cache<String, Bucket> peers =
      CacheBuilder.newBuilder()
          .expireAfterAccess(Duration.ofMinutes(10))
          .maximumSize(100_000)
          .build();

  /**
   * @param signer the signer to use for each call (read per call, so a caller may swap it)
   * @param requestsPerSecondPerIdentity the sustained CSR rate one identity may use (a burst of one
   *     second's worth is allowed)
   */
  public IstioCertificateService(
      TokenAuthenticator authenticator,
      Supplier<WorkloadCertificateSigner> signer,
      String trustDomain,
      double requestsPerSecondPerIdentity,
      int burstPerIdentity,
      MeterRegistry registry) {
    this(
        authenticator,
        signer,
        trustDomain,
        requestsPerSecondPerIdentity,
        burstPerIdentity,
        AdmissionLimits.DEFAULTS,
        registry);
  }

  /** As above, with the limits that apply before authentication. */
  public IstioCertificateService(
      TokenAuthenticator authenticator,
      Supplier<WorkloadCertificateSigner> signer,
      String trustDomain,
      double requestsPerSecondPerIdentity,
      int burstPerIdentity,
      AdmissionLimits admission,
      MeterRegistry registry) {
    this.admission = admission;
    this.total = new Bucket(admission.totalPerSecond(), admission.totalBurst());
    this.authenticator = authenticator;
    this.signer = signer;
    this.trustDomain = trustDomain;
    this.requestsPerSecondPerIdentity = requestsPerSecondPerIdentity;
    this.burstPerIdentity = burstPerIdentity;
    this.requests = counter(registry, "citadel_server_csr_count", "CSRs received");
    this.issued =
        counter(registry, "citadel_server_success_cert_issuance_count", "certificates issued");
    this.authenticationFailures =
        counter(
            registry,
            "citadel_server_authentication_failure_count",
            "CSRs refused: the caller could not be authenticated");
    this.parsingErrors =
        counter(
            registry,
            "citadel_server_csr_parsing_err_count",
            "CSRs refused: malformed, badly signed or with an unsupported key");
    this.identityErrors =
        counter(
            registry,
            "citadel_server_id_extraction_err_count",
            "CSRs refused: they name an identity other than the caller's");
    this.signErrors =
        counter(registry, "citadel_server_csr_sign_err_count", "CSRs the CA failed to sign");
    this.rateLimited =
        counter(
            registry,
            "bosun_ca_rate_limited_count",
            "CSRs refused: the caller exceeded its per-identity rate");
    this.overloaded =
        counter(
            registry,
            "bosun_ca_authentication_unavailable_count",
            "CSRs refused before authentication: too many in flight or from one address; retry");
  }

  private static Counter counter(MeterRegistry registry, String name, String help) {
    return Counter.builder(name).description(help).register(registry);
  }

  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition definition =
        ServerServiceDefinition.builder(SERVICE_NAME)
            .addMethod(CREATE_CERTIFICATE, ServerCalls.asyncUnaryCall(this::createCertificate))
            .build();
    return ServerInterceptors.intercept(definition, new BearerToken());
  }

  private void createCertificate(
      IstioCertificateRequest request, StreamObserver<IstioCertificateResponse> response) {
    try {
      admit(PEER.get());
      response.onNext(create(request, TOKEN.get()));
      response.onCompleted();
    } catch (StatusException e) {
      response.onError(e);
    }
  }

  /**
   * Refuses a call beyond the limits that apply before authentication ({@code RESOURCE_EXHAUSTED};
   * Istio's agent retries with backoff). {@code address} is the peer's, or null when unknown.
   */
  void admit(String address) throws StatusException {
    long now = System.nanoTime();
    Bucket peer =
        address == null
            ? null
            : peers
                .asMap()
                .computeIfAbsent(
                    address,
                    a -> new Bucket(admission.perAddressPerSecond(), admission.perAddressBurst()));
    if (peer != null && !peer.tryAcquire(now)) {
      overloaded.increment();
      throw refuse(
          Status.RESOURCE_EXHAUSTED,
          "too many certificate requests from " + address + "; retry later");
    }
    if (!total.tryAcquire(now)) {
      overloaded.increment();
      throw refuse(Status.RESOURCE_EXHAUSTED, "too many certificate requests; retry later");
    }
  }

  /** One CreateCertificate call, given the bearer token that came with it (or null). */
  IstioCertificateResponse create(IstioCertificateRequest request, String token)
      throws StatusException {
    requests.increment();
    CallerIdentity caller;
    try {
      caller = authenticator.authenticate(token);
    } catch (TokenAuthenticator.Overloaded e) {
      overloaded.increment();
      throw refuse(Status.UNAVAILABLE, "cannot authenticate now: " + e.getMessage());
    } catch (AuthenticationException e) {
      authenticationFailures.increment();
      throw refuse(Status.UNAUTHENTICATED, "authentication failed: " + e.getMessage());
    }
    Bucket bucket =
        limiters
            .asMap()
            .computeIfAbsent(
                caller, c -> new Bucket(requestsPerSecondPerIdentity, burstPerIdentity));
    if (!bucket.tryAcquire(System.nanoTime())) {
      rateLimited.increment();
      throw refuse(
          Status.RESOURCE_EXHAUSTED,
          "too many certificate requests for "
              + caller
              + " (limit "
              + requestsPerSecondPerIdentity
              + "/s, burst "
              + burstPerIdentity
              + "); retry later");
    }
    if (request.getValidityDuration() < 0) {
      parsingErrors.increment();
      throw refuse(
          Status.INVALID_ARGUMENT,
          "validity_duration: " + request.getValidityDuration() + " (expected: seconds >= 0)");
    }
    String spiffeId = caller.spiffeId(trustDomain);
    try {
      SignedCertificate signed =
          signer
              .get()
              .sign(request.getCsr(), spiffeId, Duration.ofSeconds(request.getValidityDuration()));
      issued.increment();
      log.debug("issued {} until {}", spiffeId, signed.leaf().getNotAfter().toInstant());
      return IstioCertificateResponse.newBuilder().addAllCertChain(signed.certChainPem()).build();
    } catch (CsrRejectedException e) {
      Status status =
          switch (e.reason()) {
            case IDENTITY_MISMATCH -> {
              identityErrors.increment();
              yield Status.PERMISSION_DENIED;
            }
            case INVALID_CSR, WEAK_OR_UNSUPPORTED_KEY, TTL_TOO_LONG -> {
              parsingErrors.increment();
              yield Status.INVALID_ARGUMENT;
            }
          };
      throw refuse(status, e.getMessage());
    } catch (RuntimeException e) {
      signErrors.increment();
      log.error("signing a certificate for {} failed", spiffeId, e);
      throw refuse(Status.INTERNAL, "the CA could not sign: " + e.getMessage());
    }
  }

  private static StatusException refuse(Status status, String message) {
    log.info("CreateCertificate refused ({}): {}", status.getCode(), message);
    return status.withDescription(message).asException();
  }

  /** A token bucket: starts full, refills at the sustained rate. */
  private static final class Bucket {
    private final double perNano;
    private final double capacity;
    private double tokens;
    private long last;

    Bucket(double perSecond, int capacity) {
      this.perNano = perSecond / 1e9;
      this.capacity = capacity;
      this.tokens = capacity;
      this.last = System.nanoTime();
    }

    synchronized boolean tryAcquire(long now) {
      tokens = Math.min(capacity, tokens + (now - last) * perNano);
      last = now;
      if (tokens < 1) {
        return false;
      }
      tokens--;
      return true;
    }
  }

  /** Moves the bearer token from the call's metadata into its context. */
  private static final class BearerToken implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      java.net.SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      String address =
          remote instanceof java.net.InetSocketAddress inet
              ? inet.getAddress() == null
                  ? inet.getHostString()
                  : inet.getAddress().getHostAddress()
              : null;
      return Contexts.interceptCall(
          Context.current()
              .withValue(TOKEN, TokenAuthenticator.bearerToken(headers))
              .withValue(PEER, address),
          call,
          headers,
          next);
    }
  }
}
