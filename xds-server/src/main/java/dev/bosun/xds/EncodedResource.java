package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;

/**
 * A resource ready to send: packed once, with a version derived from its bytes, so equal resources
 * have equal versions on every stream and every server instance. {@code problem} is Envoy's
 * objection to it (a violated field constraint), or null when it may be sent.
 */
record EncodedResource(String name, Any any, String version, String problem) {
  EncodedResource {
    requireNonNull(name, "name");
    requireNonNull(any, "any");
    requireNonNull(version, "version");
  }

  EncodedResource(String name, Any any, String version) {
    this(name, any, version, null);
  }
}
