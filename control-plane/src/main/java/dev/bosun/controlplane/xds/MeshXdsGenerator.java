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
 * each request from the snapshot its push carried, with the generator for its kind: proxyless gRPC
 * clients ({@code GENERATOR=grpc}) or Envoy sidecars ({@code sidecar~...}). Gateways are refused
 * with a clear status until their generator exists.
 */
public final class MeshXdsGenerator implements XdsGenerator {
  static final String GATEWAYS_NOT_SERVED =
      "Envoy gateway (router) configuration is not generated yet; sidecars and proxyless gRPC"
          + " clients are served";

  private final Supplier<MeshSnapshot> snapshots;
  private final ProxylessGenerator proxyless;
  private final SidecarGenerator sidecars;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public MeshXdsGenerator(Supplier<MeshSnapshot> snapshots, String domainSuffix) {
    this(snapshots, domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public MeshXdsGenerator(
      Supplier<MeshSnapshot> snapshots, String domainSuffix, String trustDomain) {
    this.snapshots = snapshots;
    this.proxyless = new ProxylessGenerator(domainSuffix, trustDomain);
    this.sidecars = new SidecarGenerator(domainSuffix, trustDomain);
  }

  @Override
  public Object attach(Node node) throws StatusException {
    ProxyView view = ProxyView.of(node);
    if (!view.isProxylessGrpc() && "router".equals(view.type())) {
      throw Status.UNIMPLEMENTED.withDescription(GATEWAYS_NOT_SERVED).asException();
    }
    return view;
  }

  @Override
  public Map<String, ? extends Message> generate(
      XdsProxy proxy, String typeUrl, Set<String> names) {
    return generate(proxy, typeUrl, names, snapshots.get());
  }

  /**
   * The resources from {@code pushed}, the snapshot the push carried (one for every type a stream
   * sends in one go), else from the latest one.
   */
  @Override
  public Map<String, ? extends Message> generate(
      XdsProxy proxy, String typeUrl, Set<String> names, Object pushed) {
    MeshSnapshot snapshot = pushed instanceof MeshSnapshot carried ? carried : snapshots.get();
    ProxyView view = proxy.attachment(ProxyView.class);
    if (snapshot == null) {
      return Map.of();
    }
    if (!view.isProxylessGrpc()) {
      return switch (typeUrl) {
        case XdsTypes.CLUSTER -> only(sidecars.clusters(snapshot, view), names);
        case XdsTypes.LISTENER -> only(sidecars.listeners(snapshot, view), names);
        case XdsTypes.ENDPOINT -> sidecars.endpoints(snapshot, view, names);
        case XdsTypes.ROUTE -> sidecars.routes(snapshot, view, names);
        default -> Map.of();
      };
    }
    if (names.isEmpty()) {
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

  /** A wildcard request gets everything; a named one only what it names. */
  private static Map<String, Message> only(Map<String, Message> all, Set<String> names) {
    if (names.isEmpty()) {
      return all;
    }
    Map<String, Message> named = new java.util.TreeMap<>();
    names.forEach(
        name -> {
          Message message = all.get(name);
          if (message != null) {
            named.put(name, message);
          }
        });
    return named;
  }
}
