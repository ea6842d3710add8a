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
                Resources.of(response.getResourcesList().stream().map(Entry::of).toList()));
          } catch (IOException e) {
            throw Status.INTERNAL
                .withDescription("invalid DiscoveryResponse: " + e.getMessage())
                .withCause(e)
                .asRuntimeException();
          }
        }
      };

  /**
   * One resource as a {@code resources} field of a response: the field's tag and lengths and the
   * {@code Any}'s type URL, followed by the {@code Any}'s value, which is the encoded resource
   * itself and is not copied.
   */
  record Entry(byte[] prefix, ByteString value) {
    static Entry of(Any any) {
      ByteString typeUrl = any.getTypeUrlBytes();
      ByteString value = any.getValue();
      int anySize =
          (typeUrl.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(1, typeUrl))
              + (value.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(2, value));
      int prefixSize =
          CodedOutputStream.computeUInt32SizeNoTag(RESOURCES_TAG)
              + CodedOutputStream.computeUInt32SizeNoTag(anySize)
              + (typeUrl.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(1, typeUrl))
              + (value.isEmpty()
                  ? 0
                  : CodedOutputStream.computeUInt32SizeNoTag(VALUE_TAG)
                      + CodedOutputStream.computeUInt32SizeNoTag(value.size()));
      byte[] prefix = new byte[prefixSize];
      CodedOutputStream out = CodedOutputStream.newInstance(prefix);
      try {
        out.writeUInt32NoTag(RESOURCES_TAG);
        out.writeUInt32NoTag(anySize);
        if (!typeUrl.isEmpty()) {
          out.writeUInt32NoTag(TYPE_URL_TAG);
          out.writeBytesNoTag(typeUrl);
        }
        if (!value.isEmpty()) {
          out.writeUInt32NoTag(VALUE_TAG);
          out.writeUInt32NoTag(value.size());
        }
        out.checkNoSpaceLeft();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // the array was sized for exactly this
      }
      return new Entry(prefix, value);
    }

    int size() {
      return prefix.length + value.size();
    }

    void writeTo(OutputStream out, ByteOutput bytes) throws IOException {
      out.write(prefix);
      // Not value.writeTo(out): that hands the stream a fresh copy of the whole value.
      UnsafeByteOperations.unsafeWriteTo(value, bytes);
    }
  }

  /** The resources of a response, in the order sent, with their encoded size. */
  record Resources(Entry[] entries, int size) {
    static Resources of(Collection<Entry> entries) {
      int size = 0;
      for (Entry entry : entries) {
        size += entry.size();
      }
      return new Resources(entries.toArray(new Entry[0]), size);
    }

    int count() {
      return entries.length;
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
    private InputStream copy;

    @Override
    public int drainTo(OutputStream target) throws IOException {
      ByteOutput bytes = new ToStream(target);
      target.write(head);
      for (Entry entry : resources.entries()) {
        entry.writeTo(target, bytes);
      }
      target.write(tail);
      return length;
    }

    @Override
    public int available() {
      return copy != null ? available(copy) : length;
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

    private InputStream copied() throws IOException {
      if (copy == null) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(length);
        drainTo(bytes);
        copy = new java.io.ByteArrayInputStream(bytes.toByteArray());
      }
      return copy;
    }

    private static int available(InputStream in) {
      try {
        return in.available();
      } catch (IOException e) {
        return 0;
      }
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
