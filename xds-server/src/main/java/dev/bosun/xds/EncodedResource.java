package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;

/**
 * A resource ready to send: packed once, with a version derived from its bytes, so equal resources
 * have equal versions on every stream and every server instance.
 */
record EncodedResource(String name, Any any, String version) {
  EncodedResource {
    requireNonNull(name, "name");
    requireNonNull(any, "any");
    requireNonNull(version, "version");
  }
}
