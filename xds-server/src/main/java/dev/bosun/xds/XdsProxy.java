package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;

/**
 * One connected xDS client stream: its node as it introduced itself, when it connected, and what
 * the control plane attached to it (its parsed view of the proxy).
 */
public record XdsProxy(String connectionId, Node node, Instant connected, Object attachment) {
  public XdsProxy {
    requireNonNull(connectionId, "connectionId");
    requireNonNull(node, "node");
    requireNonNull(connected, "connected");
  }

  public String nodeId() {
    return node.getId();
  }

  /** The attachment as the type the control plane gave it. */
  public <T> T attachment(Class<T> type) {
    return type.cast(attachment);
  }
}
