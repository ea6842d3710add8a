package dev.bosun.xds;

import com.google.common.hash.Hashing;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A state-of-the-world request as the server reads it: everything but the resource names decoded,
 * and the names kept as the bytes they came in, with a fingerprint of those bytes. Envoy repeats
 * its whole subscription in every ACK (thousands of EDS names after every push); an ACK whose
 * fingerprint matches the last one is answered without decoding a single name.
 *
 * <p>The wire format is Envoy's {@code DiscoveryRequest}, unchanged: {@link #MARSHALLER} reads it
 * and writes it back. Names that do not come as one run (protobuf writes fields in field order, so
 * every known client sends them as one) are decoded at once, and such a request has no fingerprint.
 */
final class SotwRequest {
  private static final int NAMES = DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER;
  private static final int NAMES_TAG = NAMES << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** Reads and writes {@code DiscoveryRequest}s as {@link SotwRequest}s. */
  static final MethodDescriptor.Marshaller<SotwRequest> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(SotwRequest request) {
          return new ByteArrayInputStream(request.toProto().toByteArray());
        }

        @Override
        public SotwRequest parse(InputStream stream) {
          try {
            return SotwRequest.parse(stream.readAllBytes());
          } catch (IOException e) {
            throw Status.INTERNAL
                .withDescription("invalid DiscoveryRequest: " + e.getMessage())
                .withCause(e)
                .asRuntimeException();
          }
        }
      };

  private final DiscoveryRequest request;
  private final byte[] bytes;
  private final int namesFrom;
  private final int namesTo;
  private final long fingerprint;
  private List<String> names;

  private SotwRequest(
      DiscoveryRequest request, byte[] bytes, int namesFrom, int namesTo, List<String> names) {
    this.request = request;
    this.bytes = bytes;
    this.namesFrom = namesFrom;
    this.namesTo = namesTo;
    this.names = names;
    this.fingerprint =
        names != null
            ? 0
            : Hashing.farmHashFingerprint64()
                    .hashBytes(bytes, namesFrom, namesTo - namesFrom)
                    .asLong()
                ^ (namesTo - namesFrom);
  }

  /** A request already decoded, names and all (it has no fingerprint). */
  static SotwRequest of(DiscoveryRequest request) {
    return new SotwRequest(
        request.toBuilder().clearResourceNames().build(),
        null,
        0,
        0,
        List.copyOf(request.getResourceNamesList()));
  }

  static SotwRequest parse(byte[] bytes) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    int from = -1;
    int to = -1;
    boolean oneRun = true;
    while (true) {
      int at = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      in.skipField(tag);
      if (tag != NAMES_TAG) {
        continue;
      }
      if (from < 0) {
        from = at;
      } else if (at != to) {
        oneRun = false;
      }
      to = in.getTotalBytesRead();
    }
    if (from < 0) {
      return new SotwRequest(DiscoveryRequest.parseFrom(bytes), new byte[0], 0, 0, null);
    }
    if (!oneRun) {
      return of(DiscoveryRequest.parseFrom(bytes));
    }
    DiscoveryRequest rest =
        DiscoveryRequest.parseFrom(
            UnsafeByteOperations.unsafeWrap(bytes, 0, from)
                .concat(UnsafeByteOperations.unsafeWrap(bytes, to, bytes.length - to)));
    return new SotwRequest(rest, bytes, from, to, null);
  }

  /** The request without its resource names. */
  DiscoveryRequest request() {
    return request;
  }

  /**
   * Whether the names are known to be exactly those of a request whose fingerprint was {@code
   * previous} (same bytes, same order).
   */
  boolean sameNamesAs(long previous) {
    return names == null && fingerprint == previous;
  }

  /**
   * The names as they came, as a key equal to that of every request that named the same names in
   * the same order (compared as bytes, no name decoded); null when they came decoded.
   */
  NamesKey namesKey() {
    return names == null ? new NamesKey(bytes, namesFrom, namesTo, fingerprint) : null;
  }

  /** Encoded names and their fingerprint; equal when the bytes are. */
  static final class NamesKey {
    private final byte[] bytes;
    private final int from;
    private final int to;
    private final long fingerprint;

    private NamesKey(byte[] bytes, int from, int to, long fingerprint) {
      this.bytes = bytes;
      this.from = from;
      this.to = to;
      this.fingerprint = fingerprint;
    }

    /** This key with its own copy of the names, not holding on to the whole request. */
    NamesKey retained() {
      return new NamesKey(Arrays.copyOfRange(bytes, from, to), 0, to - from, fingerprint);
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof NamesKey key
          && key.fingerprint == fingerprint
          && Arrays.equals(bytes, from, to, key.bytes, key.from, key.to);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(fingerprint);
    }
  }

  /** The fingerprint of the names, or 0 when they came decoded. */
  long fingerprint() {
    return fingerprint;
  }

  /**
   * The resource names, decoded on first use.
   *
   * @throws UncheckedIOException when one is not a valid protobuf string
   */
  List<String> names() {
    if (names == null) {
      try {
        CodedInputStream in = CodedInputStream.newInstance(bytes, namesFrom, namesTo - namesFrom);
        List<String> decoded = new ArrayList<>();
        while (!in.isAtEnd()) {
          in.readTag();
          decoded.add(in.readStringRequireUtf8());
        }
        names = decoded;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return names;
  }

  /** The whole request, names included. */
  DiscoveryRequest toProto() {
    return request.toBuilder().addAllResourceNames(names()).build();
  }
}
