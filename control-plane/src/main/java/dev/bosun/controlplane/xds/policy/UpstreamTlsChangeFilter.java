package dev.bosun.controlplane.xds.policy;

import dev.bosun.controlplane.mesh.ClusterChangeFilter;
import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether new endpoints change the TLS of a host's outbound clusters ({@link UpstreamTls}), which
 * endpoints-only pushes do not resend. Clusters read two things from endpoints: the servers'
 * identities (the SANs clients accept), and whether every endpoint of a cluster accepts mesh mTLS,
 * by which proxyless and original-destination clusters choose mTLS or plaintext for all of them. An
 * endpoint accepts it by its tlsMode label and by the PeerAuthentication its labels select, so a
 * relabelled pod can flip it without any config change.
 */
public final class UpstreamTlsChangeFilter implements ClusterChangeFilter {

  @Override
  public boolean changesClusters(MeshSnapshot previous, String host, List<Endpoint> endpoints) {
    return !Facts.of(previous, host, previous.endpoints(host))
        .equals(Facts.of(previous, host, endpoints));
  }

  /** A cluster of the host by what selects its endpoints: a service port and subset labels. */
  private record ClusterKey(String portName, Map<String, String> subset) {}

  /**
   * What a host's clusters read from its endpoints.
   *
   * @param serviceAccounts every endpoint's {@code namespace/serviceAccount}
   * @param allAcceptMtls per cluster (each service port, without subset and with each subset any
   *     DestinationRule of the host defines), whether it has endpoints and all accept mesh mTLS
   */
  private record Facts(Set<String> serviceAccounts, Map<ClusterKey, Boolean> allAcceptMtls) {
    Facts {
      serviceAccounts = Set.copyOf(serviceAccounts);
      allAcceptMtls = Map.copyOf(allAcceptMtls);
    }

    /** The facts of {@code endpoints} as the endpoints of {@code host} in {@code snapshot}. */
    static Facts of(MeshSnapshot snapshot, String host, List<Endpoint> endpoints) {
      Set<String> accounts = new TreeSet<>();
      for (Endpoint endpoint : endpoints) {
        accounts.add(endpoint.namespace() + "/" + endpoint.serviceAccount());
      }
      Set<Map<String, String>> subsets = new HashSet<>(snapshot.config().subsetSelectors(host));
      subsets.add(Map.of());
      Map<ClusterKey, Boolean> all = new HashMap<>();
      List<ServicePort> ports = snapshot.service(host).map(MeshService::ports).orElse(List.of());
      for (ServicePort port : ports) {
        // Each endpoint's acceptance once per port; subsets only choose among them.
        List<Endpoint> serving = new ArrayList<>();
        List<Boolean> accepts = new ArrayList<>();
        for (Endpoint endpoint : endpoints) {
          if (endpoint.ports().containsKey(port.name())) {
            serving.add(endpoint);
            accepts.add(UpstreamTls.acceptsMtls(snapshot, endpoint, port));
          }
        }
        for (Map<String, String> subset : subsets) {
          boolean any = false;
          boolean every = true;
          for (int i = 0; i < serving.size(); i++) {
            if (serving.get(i).matches(subset)) {
              any = true;
              every &= accepts.get(i);
            }
          }
          all.put(new ClusterKey(port.name(), subset), any && every);
        }
      }
      return new Facts(accounts, all);
    }
  }
}
