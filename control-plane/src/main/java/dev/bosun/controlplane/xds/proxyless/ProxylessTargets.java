package dev.bosun.controlplane.xds.proxyless;

import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.scope.ProxyView;
import java.util.List;
import java.util.Optional;

/**
 * The services proxyless gRPC clients dial by name ({@code host:port}), as a client resolves them.
 */
public final class ProxylessTargets {
  private final String domainSuffix;

  ProxylessTargets(String domainSuffix) {
    this.domainSuffix = domainSuffix;
  }

  /** A dialled target resolved to a service and port. */
  record Target(String name, MeshService service, ServicePort port) {}

  /**
   * Resolves {@code host:port} as a client in {@code namespace} means it: a short name is in the
   * client's namespace, {@code name.namespace} and {@code name.namespace.svc} get the cluster
   * domain suffix.
   */
  Optional<Target> resolve(MeshSnapshot snapshot, ProxyView proxy, String target) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    String host = target.substring(0, colon);
    for (String candidate : candidates(host, proxy.namespace())) {
      Optional<MeshService> service = snapshot.service(candidate);
      if (service.isPresent() && snapshot.visibleFrom(service.get(), proxy.namespace())) {
        Optional<ServicePort> servicePort = service.get().port(port);
        if (servicePort.isPresent()) {
          return Optional.of(new Target(target, service.get(), servicePort.get()));
        }
      }
    }
    return Optional.empty();
  }

  private List<String> candidates(String host, String namespace) {
    String suffix = ".svc." + domainSuffix;
    long dots = host.chars().filter(c -> c == '.').count();
    if (dots == 0) {
      return List.of(host + "." + namespace + suffix, host);
    }
    if (dots == 1) {
      return List.of(host + suffix, host);
    }
    if (host.endsWith(".svc")) {
      return List.of(host + "." + domainSuffix, host);
    }
    return List.of(host);
  }
}
