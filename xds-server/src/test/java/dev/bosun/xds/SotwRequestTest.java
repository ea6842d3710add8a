package dev.bosun.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Requests read with their names left undecoded: same content as protobuf's own parse. */
class SotwRequestTest {
  private static final List<String> NAMES =
      List.of(
          "outbound|8080||a.demo.svc.cluster.local", "outbound|8080|v1|a.demo.svc.cluster.local");

  private static DiscoveryRequest ack(String nonce, List<String> names) {
    return DiscoveryRequest.newBuilder()
        .setVersionInfo("v" + nonce)
        .setNode(Node.newBuilder().setId("sidecar~10.0.0.1~a-0.demo~demo.svc.cluster.local"))
        .addAllResourceNames(names)
        .setTypeUrl(XdsTypes.ENDPOINT)
        .setResponseNonce(nonce)
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage("rejected"))
        .build();
  }

  private static SotwRequest read(byte[] bytes) {
    return SotwRequest.MARSHALLER.parse(new ByteArrayInputStream(bytes));
  }

  @Test
  void everyFieldReadsAsProtobufReadsIt_namesOnlyWhenAskedFor() {
    DiscoveryRequest sent = ack("7", NAMES);
    SotwRequest read = read(sent.toByteArray());

    assertThat(read.request()).isEqualTo(sent.toBuilder().clearResourceNames().build());
    assertThat(read.names()).isEqualTo(NAMES);
    assertThat(read.toProto()).isEqualTo(sent);
    assertThat(read(read.toProto().toByteArray()).toProto())
        .as("written back unchanged")
        .isEqualTo(sent);
  }

  @Test
  void sameNamesInAnotherAck_areRecognisedByFingerprint_otherNamesOrOrderAreNot() {
    long first = read(ack("1", NAMES).toByteArray()).fingerprint();

    assertThat(read(ack("2", NAMES).toByteArray()).sameNamesAs(first)).isTrue();
    assertThat(read(ack("3", List.of(NAMES.get(1), NAMES.get(0))).toByteArray()).sameNamesAs(first))
        .isFalse();
    assertThat(read(ack("4", NAMES.subList(0, 1)).toByteArray()).sameNamesAs(first)).isFalse();
    assertThat(read(ack("5", List.of()).toByteArray()).sameNamesAs(first)).isFalse();
    assertThat(read(ack("6", List.of()).toByteArray()).names()).isEmpty();
  }

  @Test
  void namesNotInOneRun_areDecodedAtOnce_andHaveNoFingerprint() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeString(DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER, NAMES.get(0));
    out.writeString(DiscoveryRequest.TYPE_URL_FIELD_NUMBER, XdsTypes.ENDPOINT);
    out.writeString(DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER, NAMES.get(1));
    out.flush();

    SotwRequest read = read(bytes.toByteArray());

    assertThat(read.names()).isEqualTo(NAMES);
    assertThat(read.request().getTypeUrl()).isEqualTo(XdsTypes.ENDPOINT);
    assertThat(read.sameNamesAs(read.fingerprint())).isFalse();
  }

  @Test
  void aNameThatIsNotUtf8_failsWhenDecoded() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBytes(
        DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER,
        ByteString.copyFrom(new byte[] {(byte) 0xC3}));
    out.writeString(DiscoveryRequest.TYPE_URL_FIELD_NUMBER, XdsTypes.ENDPOINT);
    out.flush();

    SotwRequest read = read(bytes.toByteArray());

    assertThatThrownBy(read::names).isInstanceOf(UncheckedIOException.class);
  }

  @Test
  void truncatedBytes_areRefusedAsInvalid() {
    byte[] whole = ack("1", NAMES).toByteArray();
    byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 3);

    assertThatThrownBy(() -> read(cut))
        .isInstanceOf(io.grpc.StatusRuntimeException.class)
        .hasMessageContaining("invalid DiscoveryRequest");
  }
}
