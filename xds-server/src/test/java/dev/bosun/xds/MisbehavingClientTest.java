package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.request;
import static dev.bosun.xds.FakeResources.cluster;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Garbage and oversized frames fail their own stream; the server keeps serving everyone else. */
class MisbehavingClientTest {
  private final FakeResources resources = new FakeResources();
  private XdsServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    resources.put(XdsTypes.CLUSTER, cluster("a", 1));
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                    .withStreamRate(1000, 1000),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  private static final MethodDescriptor.Marshaller<byte[]> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  private Status sendRaw(byte[] frame) throws Exception {
    MethodDescriptor<byte[], byte[]> method =
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(RAW, RAW)
            .build();
    ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(frame);
    return closed.get(10, TimeUnit.SECONDS);
  }

  private void assertStillServing() throws Exception {
    try (AdsClient client = new AdsClient(server.port()).sotw()) {
      client.send(request(XdsTypes.CLUSTER, "", "", List.of()));
      assertThat(client.next().getResourcesCount()).isEqualTo(1);
    }
  }

  @Test
  void garbageFrame_failsThatStreamOnly() throws Exception {
    Status status = sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x02, 0x7f});
    assertThat(status.isOk()).isFalse();
    assertStillServing();
  }

  @Test
  void oversizedFrame_isRefused_andTheServerStaysHealthy() throws Exception {
    Status status = sendRaw(new byte[5 * 1024 * 1024]);
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertStillServing();
  }

  @Test
  void resourceNameThatIsNotUtf8_failsThatStreamWithInvalidArgument() throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    com.google.protobuf.CodedOutputStream out =
        com.google.protobuf.CodedOutputStream.newInstance(bytes);
    out.writeMessage(
        io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.NODE_FIELD_NUMBER,
        AdsClient.NODE);
    out.writeBytes(
        io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER,
        com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0xC3}));
    out.writeString(
        io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest.TYPE_URL_FIELD_NUMBER,
        XdsTypes.ENDPOINT);
    out.flush();

    Status status = sendRaw(bytes.toByteArray());

    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("resource_names");
    assertStillServing();
  }
}
