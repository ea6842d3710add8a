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
  private final Server server;

  Backend(String name) throws IOException {
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
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(ServerInterceptors.intercept(service, tag))
            .build()
            .start();
  }

  int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
