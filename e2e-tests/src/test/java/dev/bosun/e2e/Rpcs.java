package dev.bosun.e2e;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** The RPCs the scenarios send: a health check, answered with the name of the backend. */
final class Rpcs {
  private Rpcs() {}

  /** One RPC: the name of the backend that answered. Throws the RPC's StatusRuntimeException. */
  static String call(ManagedChannel channel, Map<String, String> headers, Duration deadline) {
    AtomicReference<String> who = new AtomicReference<>();
    Metadata metadata = new Metadata();
    headers.forEach(
        (k, v) -> metadata.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    HealthGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata), capture(who))
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
        .withWaitForReady()
        .check(HealthCheckRequest.getDefaultInstance());
    return who.get();
  }

  /** The backend that answered one RPC, or the status code name if it failed. */
  static String outcome(ManagedChannel channel, Map<String, String> headers, Duration deadline) {
    try {
      return call(channel, headers, deadline);
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus().getCode().name();
    }
  }

  private static ClientInterceptor capture(AtomicReference<String> who) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(
                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                  @Override
                  public void onHeaders(Metadata responseHeaders) {
                    who.set(responseHeaders.get(Backend.WHO));
                    super.onHeaders(responseHeaders);
                  }
                },
                headers);
          }
        };
      }
    };
  }
}
