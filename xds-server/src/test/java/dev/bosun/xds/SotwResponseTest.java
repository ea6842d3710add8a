package dev.bosun.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Responses written from shared parts: byte for byte what protobuf writes for the same message. */
class SotwResponseTest {
  private static final Any CLUSTER =
      Any.pack(
          Cluster.newBuilder()
              .setName("outbound|9080||reviews.bookinfo.svc.cluster.local")
              .setType(Cluster.DiscoveryType.EDS)
              .build());
  private static final Any ASSIGNMENT =
      Any.pack(
          ClusterLoadAssignment.newBuilder()
              .setClusterName("outbound|9080|v1|reviews.bookinfo.svc.cluster.local")
              .build());

  private static byte[] written(SotwResponse response) throws IOException {
    InputStream stream = SotwResponse.MARSHALLER.stream(response);
    assertThat(stream).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    int announced = stream.available();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int drained = ((Drainable) stream).drainTo(bytes);
    assertThat(drained).isEqualTo(announced).isEqualTo(bytes.size());
    return bytes.toByteArray();
  }

  private static SotwResponse.Resources resources(Any... anys) {
    return SotwResponse.Resources.of(List.of(anys));
  }

  @Test
  void sameBytesAsTheMessage() throws IOException {
    SotwResponse response =
        new SotwResponse(XdsTypes.CLUSTER, "7", "n-12", resources(CLUSTER, ASSIGNMENT));
    DiscoveryResponse expected =
        DiscoveryResponse.newBuilder()
            .setVersionInfo("7")
            .addResources(CLUSTER)
            .addResources(ASSIGNMENT)
            .setTypeUrl(XdsTypes.CLUSTER)
            .setNonce("n-12")
            .build();

    assertThat(written(response)).isEqualTo(expected.toByteArray());
    assertThat(response.toProto()).isEqualTo(expected);
  }

  @Test
  void emptyFieldsAndEmptyAnysAreLeftOutAsProtobufLeavesThemOut() throws IOException {
    Any empty = Any.newBuilder().build();
    Any noValue = Any.newBuilder().setTypeUrl(CLUSTER.getTypeUrl()).build();
    Any noType = Any.newBuilder().setValue(ByteString.copyFromUtf8("x")).build();
    SotwResponse response =
        new SotwResponse(XdsTypes.ENDPOINT, "", "", resources(empty, noValue, noType));
    DiscoveryResponse expected =
        DiscoveryResponse.newBuilder()
            .addResources(empty)
            .addResources(noValue)
            .addResources(noType)
            .setTypeUrl(XdsTypes.ENDPOINT)
            .build();

    assertThat(written(response)).isEqualTo(expected.toByteArray());
    assertThat(written(new SotwResponse("", "", "", resources())))
        .isEqualTo(DiscoveryResponse.getDefaultInstance().toByteArray())
        .isEmpty();
  }

  @Test
  void readByteByByteOrParsedBackItIsTheSameResponse() throws IOException {
    SotwResponse response = new SotwResponse(XdsTypes.CLUSTER, "3", "n-1", resources(CLUSTER));
    byte[] expected = written(response);

    assertThat(SotwResponse.MARSHALLER.stream(response).readAllBytes()).isEqualTo(expected);
    assertThat(written(SotwResponse.MARSHALLER.parse(new java.io.ByteArrayInputStream(expected))))
        .isEqualTo(expected);
  }

  @Test
  void aSharedSetIsArrangedOnceForEveryStreamThatSendsIt() {
    ResourceEncoder encoder = new ResourceEncoder();
    Map<String, Cluster> generated = new TreeMap<>();
    generated.put("b", Cluster.newBuilder().setName("b").build());
    generated.put("a", Cluster.newBuilder().setName("a").build());
    Map<String, EncodedResource> shared = encoder.encodeAll(generated);

    SotwResponse.Resources once = encoder.sotwResources(shared);
    assertThat(encoder.sotwResources(shared)).isSameAs(once);
    assertThat(once.count()).isEqualTo(2);
    assertThat(once.anys()[0]).isSameAs(shared.get("a").any());

    Map<String, EncodedResource> copy = new TreeMap<>(shared);
    assertThat(encoder.sotwResources(copy)).isNotSameAs(once);
    assertThat(encoder.sotwResources(copy).size()).isEqualTo(once.size());
  }
}
