package dev.bosun.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.hash.Hashing;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks generated messages against Envoy's field constraints and packs into {@link Any}s and
 * versions them by content. Equal messages (from any proxy's generation) are packed once and share
 * their bytes. The cache is bounded by the encoded size it holds, least recently used first out
 * (resources of superseded snapshots), which only costs a re-serialisation.
 */
final class ResourceEncoder {
  /** Encoded bytes the cache may hold; the messages it is keyed by take a few times more. */
  private static final long MAX_ENCODED_BYTES = 128L << 20;

  private final Cache<Message, Encoded> cache =
      CacheBuilder.newBuilder()
          .maximumWeight(MAX_ENCODED_BYTES)
          .<Message, Encoded>weigher((message, encoded) -> 64 + encoded.any().getValue().size())
          .build();
  private final EnvoyValidator validator = EnvoyValidator.shared();

  /** Encoded sets by the identity of the generated map; gone once the generator forgets it. */
  private final Cache<Map<String, ? extends Message>, Map<String, EncodedResource>> sets =
      CacheBuilder.newBuilder().weakKeys().build();

  /** The encoded sets of {@link #sets} as state-of-the-world responses carry them. */
  private final Cache<Map<String, EncodedResource>, SotwResponse.Resources> sotwSets =
      CacheBuilder.newBuilder().weakKeys().build();

  /** Type URLs as bytes, so writing a response does not encode one string per resource. */
  private final Map<String, ByteString> typeUrls = new ConcurrentHashMap<>();

  /**
   * The packed form, Envoy's objection to it if any, and the resource under the name it was first
   * encoded with.
   */
  private record Encoded(Any any, String version, String problem, EncodedResource resource) {}

  EncodedResource encode(String name, Message message) {
    Encoded encoded = cache.getIfPresent(message);
    if (encoded == null) {
      Any any = pack(message);
      String version =
          Hashing.murmur3_128()
              .hashBytes(any.getValue().asReadOnlyByteBuffer())
              .toString()
              .substring(0, 16);
      String problem = validator.check(message).orElse(null);
      encoded =
          new Encoded(any, version, problem, new EncodedResource(name, any, version, problem));
      Encoded raced = cache.asMap().putIfAbsent(message, encoded);
      if (raced != null) {
        encoded = raced;
      }
    }
    EncodedResource resource = encoded.resource();
    return resource.name().equals(name)
        ? resource
        : new EncodedResource(name, encoded.any(), encoded.version(), encoded.problem());
  }

  /**
   * Every resource of {@code generated} encoded, as one immutable map shared by every caller that
   * passes the same map instance (generators hand proxies of one scope the same map), so streams
   * keep references to one copy. Null when one of them fails Envoy's constraints: the caller then
   * handles them one by one.
   */
  Map<String, EncodedResource> encodeAll(Map<String, ? extends Message> generated) {
    Map<String, EncodedResource> shared = sets.getIfPresent(generated);
    if (shared != null) {
      return shared;
    }
    Map<String, EncodedResource> encoded = new TreeMap<>();
    for (Map.Entry<String, ? extends Message> entry : generated.entrySet()) {
      EncodedResource resource = encode(entry.getKey(), entry.getValue());
      if (resource.problem() != null) {
        return null;
      }
      encoded.put(entry.getKey(), resource);
    }
    shared = Collections.unmodifiableMap(encoded);
    sets.put(generated, shared);
    sotwSets.put(shared, sotwResources(encoded.values()));
    return shared;
  }

  /**
   * {@code resources} as a state-of-the-world response carries them: for a set {@link #encodeAll}
   * returned, the arrangement made once for every stream that sends it.
   */
  SotwResponse.Resources sotwResources(Map<String, EncodedResource> resources) {
    SotwResponse.Resources shared = sotwSets.getIfPresent(resources);
    return shared != null ? shared : sotwResources(resources.values());
  }

  private static SotwResponse.Resources sotwResources(Collection<EncodedResource> resources) {
    List<Any> anys = new ArrayList<>(resources.size());
    resources.forEach(resource -> anys.add(resource.any()));
    return SotwResponse.Resources.of(anys);
  }

  /** As {@link Any#pack}, with the type URL held as bytes. */
  private Any pack(Message message) {
    ByteString typeUrl =
        typeUrls.computeIfAbsent(
            message.getDescriptorForType().getFullName(),
            name -> ByteString.copyFromUtf8("type.googleapis.com/" + name));
    return Any.newBuilder().setTypeUrlBytes(typeUrl).setValue(message.toByteString()).build();
  }

  int size() {
    return (int) cache.size();
  }
}
