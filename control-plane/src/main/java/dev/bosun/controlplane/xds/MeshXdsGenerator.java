package dev.bosun.controlplane.xds;

import com.google.protobuf.Message;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.gateway.GatewayGenerator;
import dev.bosun.controlplane.xds.proxyless.ProxylessGenerator;
import dev.bosun.controlplane.xds.scope.Generated;
import dev.bosun.controlplane.xds.scope.MeshChange;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.scope.TypeGenerator;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.xds.XdsGenerator;
import dev.bosun.xds.XdsProxy;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.StatusException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Plugs the mesh into the xDS server: recognises the connecting proxy from its node and answers
 * each request from the snapshot its push carried, with the generator for its kind: proxyless gRPC
 * clients ({@code GENERATOR=grpc}), Envoy gateways ({@code router~...}) or Envoy sidecars ({@code
 * sidecar~...}).
 */
public final class MeshXdsGenerator implements XdsGenerator {
  private final Supplier<MeshSnapshot> snapshots;
  private final Map<String, TypeGenerator> proxyless;
  private final Map<String, TypeGenerator> sidecars;
  private final Map<String, TypeGenerator> gateways;
  private final WarningLog warnings;

  /** A generator for a mesh whose trust domain is the default, {@code cluster.local}. */
  public MeshXdsGenerator(Supplier<MeshSnapshot> snapshots, String domainSuffix) {
    this(snapshots, domainSuffix, dev.bosun.controlplane.mesh.MeshSettings.DEFAULT_TRUST_DOMAIN);
  }

  public MeshXdsGenerator(
      Supplier<MeshSnapshot> snapshots, String domainSuffix, String trustDomain) {
    this(snapshots, domainSuffix, trustDomain, new WarningLog());
  }

  /** A generator whose generators' warnings (config sent with a loss) go to {@code warnings}. */
  public MeshXdsGenerator(
      Supplier<MeshSnapshot> snapshots,
      String domainSuffix,
      String trustDomain,
      WarningLog warnings) {
    this.snapshots = snapshots;
    this.warnings = warnings;
    this.proxyless = byType(new ProxylessGenerator(domainSuffix, trustDomain).types());
    this.sidecars = byType(new SidecarGenerator(domainSuffix, trustDomain).types());
    this.gateways = byType(new GatewayGenerator(domainSuffix, trustDomain).types());
  }

  private static Map<String, TypeGenerator> byType(List<TypeGenerator> generators) {
    Map<String, TypeGenerator> byType = new HashMap<>();
    generators.forEach(generator -> byType.put(generator.typeUrl(), generator));
    return Map.copyOf(byType);
  }

  /** The generator of {@code typeUrl} for a proxy of this kind, if the type is served to it. */
  Optional<TypeGenerator> generator(ProxyView proxy, String typeUrl) {
    Map<String, TypeGenerator> kind =
        proxy.isProxylessGrpc() ? proxyless : proxy.isRouter() ? gateways : sidecars;
    return Optional.ofNullable(kind.get(typeUrl));
  }

  /**
   * Whether {@code change} may change the resources of {@code typeUrl} of {@code proxy} (types no
   * generator serves never change).
   */
  public boolean concerns(MeshChange change, XdsProxy proxy, String typeUrl) {
    ProxyView view = proxy.attachment(ProxyView.class);
    return view != null
        && generator(view, typeUrl).map(g -> g.concerns(change, view)).orElse(false);
  }

  @Override
  public Object attach(Node node) throws StatusException {
    return ProxyView.of(node);
  }

  /** A proxy on an authorizing port has a verified identity, which gateways' SDS requires. */
  @Override
  public Object attach(Node node, boolean authenticated) throws StatusException {
    ProxyView view = ProxyView.of(node);
    return authenticated ? view.verified() : view;
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
    if (view.isProxylessGrpc() && names.isEmpty()) {
      // grpc-xds names every resource it wants; a wildcard request gets nothing.
      return Map.of();
    }
    Optional<TypeGenerator> generator = generator(view, typeUrl);
    if (generator.isEmpty()) {
      return Map.of();
    }
    Generated generated = generator.get().generate(snapshot, view, names);
    warnings.report(generated.warnings());
    return generated.resources();
  }
}
