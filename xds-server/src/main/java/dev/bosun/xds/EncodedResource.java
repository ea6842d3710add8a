package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.service.discovery.v3.Resource;

/**
 * A resource ready to send: packed once, with a version derived from its bytes, so equal resources
 * have equal versions on every stream and every server instance. {@code problem} is Envoy's
 * objection to it (a violated field constraint), or null when it may be sent.
 */
record EncodedResource(String name, Any any, String version, String problem, Resource delta) {
  EncodedResource {
    requireNonNull(name, "name");
    requireNonNull(any, "any");
    requireNonNull(version, "version");
    requireNonNull(delta, "delta");
  }

  /**
   * {@code delta} is the resource as a delta response carries it, built once here rather than for
   * every stream it is sent on, with its name and version held as bytes so that writing it does not
   * encode them again.
   */
  EncodedResource(String name, Any any, String version, String problem) {
    this(
        name,
        any,
        version,
        problem,
        Resource.newBuilder()
            .setNameBytes(ByteString.copyFromUtf8(name))
            .setVersionBytes(ByteString.copyFromUtf8(version))
            .setResource(any)
            .build());
  }

  EncodedResource(String name, Any any, String version) {
    this(name, any, version, null);
  }
}
