package dev.bosun.controlplane.xds;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.xds.XdsGenerator;
import dev.bosun.xds.XdsProxy;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Plugs the mesh into the xDS server: recognises the connecting proxy from its node and answers
 * each request from the latest snapshot. Proxyless gRPC clients are served; Envoy sidecars are
 * refused with a clear status until their generators exist.
 */
public final class MeshXdsGenerator implements XdsGenerator {
  static final String SIDECARS_NOT_SERVED =
      "Envoy sidecar configuration is not generated yet; only proxyless gRPC clients"
          + " (node metadata GENERATOR=grpc) are served";

  private final Supplier<MeshSnapshot> snapshots;
  private final ProxylessGenerator proxyless;

  public MeshXdsGenerator(Supplier<MeshSnapshot> snapshots, String domainSuffix) {
    this.snapshots = snapshots;
    this.proxyless = new ProxylessGenerator(domainSuffix);
  }

  @Override
  public Object attach(Node node) throws StatusException {
    ProxyView view = ProxyView.of(node);
    if (!view.isProxylessGrpc()) {
      throw Status.UNIMPLEMENTED.withDescription(SIDECARS_NOT_SERVED).asException();
    }
    return view;
  }

  @Override
  public Map<String, ? extends Message> generate(
      XdsProxy proxy, String typeUrl, Set<String> names) {
    MeshSnapshot snapshot = snapshots.get();
    ProxyView view = proxy.attachment(ProxyView.class);
    if (snapshot == null || names.isEmpty()) {
      // grpc-xds names every resource it wants; a wildcard request gets nothing.
      return Map.of();
    }
    return switch (typeUrl) {
      case XdsTypes.LISTENER -> proxyless.listeners(snapshot, view, names);
      case XdsTypes.ROUTE -> proxyless.routes(snapshot, view, names);
      case XdsTypes.CLUSTER -> proxyless.clusters(snapshot, view, names);
      case XdsTypes.ENDPOINT -> proxyless.endpoints(snapshot, view, names);
      default -> Map.of();
    };
  }
}
