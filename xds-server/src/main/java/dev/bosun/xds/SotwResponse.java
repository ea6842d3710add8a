package dev.bosun.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Collection;

/**
 * A state-of-the-world response as the server writes it: the resources as bytes encoded once and
 * shared by every stream that sends the same set, and per stream only the version and nonce.
 * Building a {@code DiscoveryResponse} for each of thousands of sidecars would copy thousands of
 * {@code Any}s into a builder and serialise each again; this writes the shared bytes as they are.
 *
 * <p>The bytes on the wire are exactly those of the equivalent {@code DiscoveryResponse}, fields in
 * field-number order: {@code version_info}, {@code resources}, {@code type_url}, {@code nonce}.
 */
final class SotwResponse {
  private static final int RESOURCES_TAG =
      DiscoveryResponse.RESOURCES_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int TYPE_URL_TAG = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int VALUE_TAG = 2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** Writes responses from their parts; reads them back (for clients of this descriptor). */
  static final MethodDescriptor.Marshaller<SotwResponse> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(SotwResponse response) {
          return response.new Stream();
        }

        @Override
        public SotwResponse parse(InputStream stream) {
          try {
            DiscoveryResponse response = DiscoveryResponse.parseFrom(stream);
            return new SotwResponse(
                response.getTypeUrl(),
                response.getVersionInfo(),
                response.getNonce(),
                Resources.of(response.getResourcesList()));
          } catch (IOException e) {
            throw Status.INTERNAL
                .withDescription("invalid DiscoveryResponse: " + e.getMessage())
                .withCause(e)
                .asRuntimeException();
          }
        }
      };

  /**
   * The resources of a response, in the order sent, with their encoded size as {@code resources}
   * fields. The {@code Any}s are the shared, already encoded resources; nothing is copied to hold
   * them here.
   */
  record Resources(Any[] anys, int size) {
    static Resources of(Collection<Any> anys) {
      int size = 0;
      for (Any any : anys) {
        size += CodedOutputStream.computeMessageSize(DiscoveryResponse.RESOURCES_FIELD_NUMBER, any);
      }
      return new Resources(anys.toArray(new Any[0]), size);
    }

    int count() {
      return anys.length;
    }
  }

  private final String typeUrl;
  private final String version;
  private final String nonce;
  private final Resources resources;

  SotwResponse(String typeUrl, String version, String nonce, Resources resources) {
    this.typeUrl = typeUrl;
    this.version = version;
    this.nonce = nonce;
    this.resources = resources;
  }

  /** The same response as a message (for tests and debugging: it copies every resource). */
  DiscoveryResponse toProto() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      new Stream().drainTo(bytes);
      return DiscoveryResponse.parseFrom(bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The encoding, written straight into gRPC's buffers. */
  private final class Stream extends InputStream implements Drainable, KnownLength {
    private final byte[] head = field(1, version);
    private final byte[] tail = concat(field(4, typeUrl), field(5, nonce));
    private final int length = head.length + resources.size() + tail.length;
    private java.io.ByteArrayInputStream copy;

    @Override
    public int drainTo(OutputStream target) throws IOException {
      ByteOutput bytes = new ToStream(target);
      byte[] header = new byte[3 * MAX_VARINT + 2];
      target.write(head);
      for (Any any : resources.anys()) {
        writeResource(any, target, bytes, header);
      }
      target.write(tail);
      return length;
    }

    @Override
    public int available() {
      return copy != null ? copy.available() : length;
    }

    // gRPC drains the stream; reading it byte by byte is for other callers and copies once.
    @Override
    public int read() throws IOException {
      return copied().read();
    }

    @Override
    public int read(byte[] buffer, int offset, int count) throws IOException {
      return copied().read(buffer, offset, count);
    }

    private java.io.ByteArrayInputStream copied() throws IOException {
      if (copy == null) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(length);
        drainTo(bytes);
        copy = new java.io.ByteArrayInputStream(bytes.toByteArray());
      }
      return copy;
    }
  }

  /**
   * Writes bytes to a stream without copying them first: the stream (gRPC's, into its own buffers)
   * neither keeps nor changes what it is given.
   */
  private static final class ToStream extends ByteOutput {
    private final OutputStream target;

    ToStream(OutputStream target) {
      this.target = target;
    }

    @Override
    public void write(byte value) throws IOException {
      target.write(value);
    }

    @Override
    public void write(byte[] value, int offset, int length) throws IOException {
      target.write(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) throws IOException {
      target.write(value, offset, length);
    }

    @Override
    public void write(java.nio.ByteBuffer value) throws IOException {
      if (value.hasArray()) {
        target.write(value.array(), value.arrayOffset() + value.position(), value.remaining());
        value.position(value.limit());
        return;
      }
      byte[] copy = new byte[value.remaining()];
      value.get(copy);
      target.write(copy);
    }

    @Override
    public void writeLazy(java.nio.ByteBuffer value) throws IOException {
      write(value);
    }
  }

  private static final int MAX_VARINT = 5;

  /**
   * One {@code resources} field: its tag and length, the {@code Any}'s type URL field, and its
   * value field's tag and length, then the value's bytes as they are (not copied first), exactly as
   * protobuf writes the {@code Any}.
   */
  private static void writeResource(Any any, OutputStream out, ByteOutput bytes, byte[] header)
      throws IOException {
    ByteString typeUrl = any.getTypeUrlBytes();
    ByteString value = any.getValue();
    int at = 0;
    header[at++] = (byte) RESOURCES_TAG;
    at = varint(any.getSerializedSize(), header, at);
    if (!typeUrl.isEmpty()) {
      header[at++] = (byte) TYPE_URL_TAG;
      at = varint(typeUrl.size(), header, at);
      out.write(header, 0, at);
      UnsafeByteOperations.unsafeWriteTo(typeUrl, bytes);
      at = 0;
    }
    if (!value.isEmpty()) {
      header[at++] = (byte) VALUE_TAG;
      at = varint(value.size(), header, at);
      out.write(header, 0, at);
      // Not value.writeTo(out): that hands the stream a fresh copy of the whole value.
      UnsafeByteOperations.unsafeWriteTo(value, bytes);
    } else if (at > 0) {
      out.write(header, 0, at);
    }
  }

  private static int varint(int value, byte[] into, int at) {
    while ((value & ~0x7F) != 0) {
      into[at++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    into[at++] = (byte) value;
    return at;
  }

  /** A string field, or nothing when the string is empty (proto3 leaves defaults out). */
  private static byte[] field(int number, String value) {
    if (value.isEmpty()) {
      return new byte[0];
    }
    byte[] bytes = new byte[CodedOutputStream.computeStringSize(number, value)];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      out.writeString(number, value);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes;
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] both = java.util.Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }
}
