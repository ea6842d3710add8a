package dev.bosun.xds;

import com.google.common.hash.Hashing;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Packs generated messages into {@link Any}s and versions them by content. Equal messages (from any
 * proxy's generation) are packed once and share their bytes; the cache forgets everything when it
 * grows past its bound, which only costs a re-serialisation.
 */
final class ResourceEncoder {
  private static final int MAX_ENTRIES = 200_000;

  private final ConcurrentHashMap<Message, Encoded> cache = new ConcurrentHashMap<>();

  /** The packed form, and the resource under the name it was first encoded with. */
  private record Encoded(Any any, String version, EncodedResource resource) {}

  EncodedResource encode(String name, Message message) {
    Encoded encoded = cache.get(message);
    if (encoded == null) {
      Any any = Any.pack(message);
      String version =
          Hashing.murmur3_128()
              .hashBytes(any.getValue().asReadOnlyByteBuffer())
              .toString()
              .substring(0, 16);
      encoded = new Encoded(any, version, new EncodedResource(name, any, version));
      if (cache.size() >= MAX_ENTRIES) {
        cache.clear();
      }
      Encoded raced = cache.putIfAbsent(message, encoded);
      if (raced != null) {
        encoded = raced;
      }
    }
    EncodedResource resource = encoded.resource();
    return resource.name().equals(name)
        ? resource
        : new EncodedResource(name, encoded.any(), encoded.version());
  }

  int size() {
    return cache.size();
  }
}
