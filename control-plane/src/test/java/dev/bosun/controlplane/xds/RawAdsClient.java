package dev.bosun.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An ADS state-of-the-world client that speaks the protocol by hand, the way an Envoy sidecar's
 * stream looks to the server: the test decides what to request and when to ACK, and sees every
 * response in order.
 */
public final class RawAdsClient implements AutoCloseable {
  private final Node node;
  private final ManagedChannel channel;
  private final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  private final StreamObserver<DiscoveryRequest> requests;
  private final java.util.concurrent.CompletableFuture<io.grpc.Status> failure =
      new java.util.concurrent.CompletableFuture<>();
  private boolean nodeSent;

  public RawAdsClient(int port, Node node) {
    this(
        Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build(),
        node);
  }

  /** A stream over {@code channel} (TLS, call credentials), which the client then owns. */
  public RawAdsClient(ManagedChannel channel, Node node) {
    this.node = node;
    this.channel = channel;
    this.requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse value) {
                    responses.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    failure.complete(io.grpc.Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {}
                });
  }

  /** Subscribes to {@code type} (wildcard when {@code names} is empty) and returns the answer. */
  public DiscoveryResponse request(String type, List<String> names) throws InterruptedException {
    send(DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names));
    DiscoveryResponse response = next(Duration.ofSeconds(30));
    if (response == null || !response.getTypeUrl().equals(type)) {
      throw new AssertionError("expected a " + type + " response, got " + response);
    }
    return response;
  }

  /** Sends the first request of {@code type} without waiting for an answer. */
  public void subscribe(String type) {
    subscribe(type, List.of());
  }

  /** Subscribes to {@code names} of {@code type} without waiting for an answer. */
  public void subscribe(String type, List<String> names) {
    send(DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names));
  }

  /** The status the server ended the stream with, waiting up to {@code timeout}. */
  public io.grpc.Status failure(Duration timeout) throws Exception {
    return failure.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** ACKs {@code response}, keeping the subscription to {@code names}. */
  public void ack(DiscoveryResponse response, List<String> names) {
    send(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(response.getTypeUrl())
            .setVersionInfo(response.getVersionInfo())
            .setResponseNonce(response.getNonce())
            .addAllResourceNames(names));
  }

  /** NACKs {@code response} with {@code error}, as Envoy does: the previous version, the nonce. */
  public void nack(DiscoveryResponse response, List<String> names, String error) {
    send(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(response.getTypeUrl())
            .setResponseNonce(response.getNonce())
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(error))
            .addAllResourceNames(names));
  }

  /** The next response, or null if none arrives within {@code timeout}. */
  public DiscoveryResponse next(Duration timeout) throws InterruptedException {
    return responses.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void send(DiscoveryRequest.Builder request) {
    if (!nodeSent) {
      request.setNode(node);
      nodeSent = true;
    }
    requests.onNext(request.build());
  }

  public static <T extends Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /** A resource of the four sidecar types or SDS, unpacked to its message class. */
  public static Message unpack(Any any) {
    return switch (any.getTypeUrl()) {
      case XdsTypes.CLUSTER -> unpack(any, Cluster.class);
      case XdsTypes.ENDPOINT -> unpack(any, ClusterLoadAssignment.class);
      case XdsTypes.LISTENER -> unpack(any, Listener.class);
      case XdsTypes.ROUTE -> unpack(any, RouteConfiguration.class);
      case XdsTypes.SECRET ->
          unpack(any, io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class);
      default -> throw new AssertionError("unexpected type " + any.getTypeUrl());
    };
  }

  @Override
  public void close() {
    requests.onCompleted();
    channel.shutdownNow();
  }
}
