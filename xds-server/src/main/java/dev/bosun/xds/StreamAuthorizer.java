package dev.bosun.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * Decides whether the caller of a stream may speak for the node it names: checked once, when the
 * first request introduces the node, with the call's headers (where a bearer token travels). A
 * refused stream ends with the returned status and costs nothing else.
 */
@FunctionalInterface
public interface StreamAuthorizer {

  /** Returns null to accept the stream, or the status to end it with. */
  Status authorize(Metadata headers, Node node);
}
