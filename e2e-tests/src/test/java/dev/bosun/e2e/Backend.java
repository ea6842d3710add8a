package dev.bosun.e2e;

import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real gRPC server on loopback standing in for one pod: it answers the health-check RPC, says who
 * it is in a response header, counts calls, and can be told to fail or be slow.
 */
final class Backend implements AutoCloseable {
  static final Metadata.Key<String> WHO =
      Metadata.Key.of("x-backend", Metadata.ASCII_STRING_MARSHALLER);

  final String name;
  final AtomicInteger calls = new AtomicInteger();
  final AtomicInteger failuresLeft = new AtomicInteger();
  volatile Duration delay = Duration.ZERO;

  /** The URI SAN of the last caller's client certificate; "plaintext" without TLS. */
  volatile String lastPeer = "";

  private final Server server;

  Backend(String name) throws IOException {
    this(name, Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()));
  }

  /** A backend served by {@code builder} (an xDS server, for instance). */
  Backend(String name, io.grpc.ServerBuilder<?> builder) throws IOException {
    this.name = name;
    HealthGrpc.HealthImplBase service =
        new HealthGrpc.HealthImplBase() {
          @Override
          public void check(
              HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
            calls.incrementAndGet();
            if (!delay.isZero()) {
              try {
                Thread.sleep(delay.toMillis());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              responses.onError(
                  Status.UNAVAILABLE
                      .withDescription(name + " failing on purpose")
                      .asRuntimeException());
              return;
            }
            responses.onNext(
                HealthCheckResponse.newBuilder()
                    .setStatus(HealthCheckResponse.ServingStatus.SERVING)
                    .build());
            responses.onCompleted();
          }
        };
    ServerInterceptor tag =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            lastPeer = peerIdentity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
            return next.startCall(
                new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                  @Override
                  public void sendHeaders(Metadata responseHeaders) {
                    responseHeaders.put(WHO, Backend.this.name);
                    super.sendHeaders(responseHeaders);
                  }
                },
                headers);
          }
        };
    server = builder.addService(ServerInterceptors.intercept(service, tag)).build().start();
  }

  private static String peerIdentity(javax.net.ssl.SSLSession session) {
    if (session == null) {
      return "plaintext";
    }
    try {
      var certificate = (java.security.cert.X509Certificate) session.getPeerCertificates()[0];
      for (var name : certificate.getSubjectAlternativeNames()) {
        if (Integer.valueOf(6).equals(name.get(0))) {
          return (String) name.get(1);
        }
      }
      return "no URI SAN";
    } catch (javax.net.ssl.SSLPeerUnverifiedException
        | java.security.cert.CertificateParsingException e) {
      return "unverified";
    }
  }

  int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
