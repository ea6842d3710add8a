package dev.bosun.xds;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.StatusException;
import java.util.Map;
import java.util.Set;

/**
 * What the xDS server asks of the control plane: who a connecting node is, and the resources of one
 * type for one proxy. The server owns the protocol (nonces, versions, ACK/NACK, what each proxy
 * has) and knows nothing of what the resources mean.
 */
public interface XdsGenerator {

  /**
   * Called on a stream's first request. Returns what the server should keep with the stream (passed
   * back in {@link XdsProxy#attachment()}), or throws to refuse the stream with that status.
   */
  default Object attach(Node node) throws StatusException {
    return null;
  }

  /**
   * As {@link #attach(Node)}, told whether the stream's caller was authenticated and authorized to
   * speak for the node (a secure port's {@link StreamAuthorizer} accepted it).
   */
  default Object attach(Node node, boolean authenticated) throws StatusException {
    return attach(node);
  }

  /**
   * The resources of {@code typeUrl} for {@code proxy}, by name. {@code names} are the names the
   * proxy subscribed to, or empty for all of them (a wildcard subscription). A name with no
   * resource is simply absent. Must not block on I/O.
   */
  Map<String, ? extends Message> generate(XdsProxy proxy, String typeUrl, Set<String> names);

  /**
   * As {@link #generate(XdsProxy, String, Set)}, from {@code snapshot}: the one a push carried
   * ({@link PushScope#snapshot()}), the same for every type one drain of a stream sends; null
   * before any push carried one.
   */
  default Map<String, ? extends Message> generate(
      XdsProxy proxy, String typeUrl, Set<String> names, Object snapshot) {
    return generate(proxy, typeUrl, names);
  }
}
