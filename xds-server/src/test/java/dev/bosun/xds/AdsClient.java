package dev.bosun.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw ADS client for protocol tests: sends exactly what a test says, records what comes back. */
final class AdsClient implements AutoCloseable {
  static final Node NODE =
      Node.newBuilder().setId("sidecar~10.0.0.1~reviews-v1.shop~shop.svc.cluster.local").build();

  final ManagedChannel channel;
  final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
  private StreamObserver<DiscoveryRequest> sotw;
  private StreamObserver<DeltaDiscoveryRequest> delta;
  private io.grpc.Metadata headers = new io.grpc.Metadata();

  AdsClient(int port) {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  private <T> StreamObserver<T> recorder() {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        received.add(value);
      }

      @Override
      public void onError(Throwable t) {
        received.add(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        received.add(Status.OK);
      }
    };
  }

  /** Sends {@code headers} with the streams opened after this. */
  AdsClient withHeaders(io.grpc.Metadata headers) {
    this.headers = headers;
    return this;
  }

  private AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub stub() {
    return AggregatedDiscoveryServiceGrpc.newStub(channel)
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  AdsClient sotw() {
    sotw = stub().streamAggregatedResources(recorder());
    return this;
  }

  AdsClient delta() {
    delta = stub().deltaAggregatedResources(recorder());
    return this;
  }

  void send(DiscoveryRequest request) {
    sotw.onNext(request);
  }

  void send(DeltaDiscoveryRequest request) {
    delta.onNext(request);
  }

  static DiscoveryRequest request(String type, String nonce, String version, List<String> names) {
    return DiscoveryRequest.newBuilder()
        .setNode(NODE)
        .setTypeUrl(type)
        .setResponseNonce(nonce)
        .setVersionInfo(version)
        .addAllResourceNames(names)
        .build();
  }

  /** ACKs a response, keeping the given subscription. */
  void ack(DiscoveryResponse response, List<String> names) {
    send(request(response.getTypeUrl(), response.getNonce(), response.getVersionInfo(), names));
  }

  void nack(DiscoveryResponse response, List<String> names, String error) {
    send(
        request(response.getTypeUrl(), response.getNonce(), "", names).toBuilder()
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(error))
            .build());
  }

  DiscoveryResponse next() throws InterruptedException {
    Object value = received.poll(10, TimeUnit.SECONDS);
    if (!(value instanceof DiscoveryResponse response)) {
      throw new AssertionError("expected a DiscoveryResponse, got " + value);
    }
    return response;
  }

  DeltaDiscoveryResponse nextDelta() throws InterruptedException {
    Object value = received.poll(10, TimeUnit.SECONDS);
    if (!(value instanceof DeltaDiscoveryResponse response)) {
      throw new AssertionError("expected a DeltaDiscoveryResponse, got " + value);
    }
    return response;
  }

  Status nextStatus() throws InterruptedException {
    Object value = received.poll(10, TimeUnit.SECONDS);
    if (!(value instanceof Status status)) {
      throw new AssertionError("expected the stream to end, got " + value);
    }
    return status;
  }

  /** Nothing arrives within a short wait (used after ACKs, NACKs and no-op pushes). */
  Object poll(long millis) throws InterruptedException {
    return received.poll(millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
