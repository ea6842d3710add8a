package dev.bosun.controlplane.xds.policy;

import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.model.IstioLabels;
import dev.bosun.controlplane.model.MeshService;
import dev.bosun.controlplane.model.ServicePort;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.envoy.GrpcTlsBuilder;
import dev.bosun.controlplane.xds.scope.Warnings;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.fabric8.istio.api.api.networking.v1alpha3.ClientTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ClientTLSSettingsTLSmode;
import io.fabric8.istio.api.api.networking.v1alpha3.TrafficPolicy;
import java.util.List;
import java.util.TreeSet;

/**
 * How a client connects to the endpoints of one outbound cluster, decided as istiod does. A
 * DestinationRule's {@code tls} (rule, subset or port level, already merged into the cluster's
 * policy) decides when set: {@code ISTIO_MUTUAL} is mesh mTLS, {@code DISABLE} plaintext, {@code
 * SIMPLE}/{@code MUTUAL} TLS with the given files. Otherwise auto mTLS: mesh mTLS to each endpoint
 * that accepts it (pod label {@code security.istio.io/tlsMode: istio} and a PeerAuthentication
 * other than DISABLE on its port), plaintext to the rest; never to mesh-external services, and not
 * at all when the mesh config sets {@code enableAutoMtls: false} (then plaintext).
 *
 * <p>Where the user asked for TLS and it cannot be built as asked, the cluster fails closed: it
 * never falls back to plaintext.
 *
 * @param kind what the client does
 * @param sni the SNI for mesh mTLS: the DestinationRule's, else {@code
 *     outbound_.<port>_.<subset>_.<host>}
 * @param subjectAltNames the identities the server may have (exact match; empty accepts any of the
 *     mesh)
 * @param settings the DestinationRule's TLS settings, for {@link Kind#FILES}
 */
public record UpstreamTls(
    Kind kind, String sni, List<String> subjectAltNames, ClientTLSSettings settings) {

  /** What a client does. */
  enum Kind {
    /** No TLS. */
    PLAINTEXT,
    /** Mesh mTLS to every endpoint (DestinationRule {@code ISTIO_MUTUAL}). */
    ISTIO_MUTUAL,
    /** Mesh mTLS to the endpoints that accept it, plaintext to the rest. */
    AUTO,
    /**
     * {@code SIMPLE} or {@code MUTUAL} TLS origination with certificate files. A {@code
     * credentialName} is for gateways: sidecars keep to the files, as Istio documents.
     */
    FILES
  }

  public UpstreamTls {
    subjectAltNames = List.copyOf(subjectAltNames);
  }

  /**
   * The decision for {@code cluster} of {@code service}, whose merged policy is {@code traffic}.
   */
  public static UpstreamTls of(
      MeshSnapshot snapshot,
      MeshService service,
      EnvoyNames.OutboundCluster cluster,
      TrafficPolicy traffic,
      String trustDomain) {
    ClientTLSSettings tls = traffic == null ? null : traffic.getTls();
    String sni = EnvoyNames.outboundSni(cluster);
    if (tls == null) {
      // Auto mTLS is on unless the mesh config's enableAutoMtls turns it off.
      return service.meshExternal() || !snapshot.meshConfig().enableAutoMtls()
          ? plaintext()
          : new UpstreamTls(Kind.AUTO, sni, identities(snapshot, service, trustDomain), null);
    }
    return switch (mode(tls)) {
      case DISABLE -> plaintext();
      case ISTIO_MUTUAL ->
          new UpstreamTls(
              Kind.ISTIO_MUTUAL,
              tls.getSni() == null || tls.getSni().isBlank() ? sni : tls.getSni(),
              tls.getSubjectAltNames() == null || tls.getSubjectAltNames().isEmpty()
                  ? identities(snapshot, service, trustDomain)
                  : tls.getSubjectAltNames(),
              tls);
      case SIMPLE, MUTUAL ->
          new UpstreamTls(Kind.FILES, tls.getSni() == null ? "" : tls.getSni(), List.of(), tls);
    };
  }

  /**
   * Whether {@code traffic} asks for TLS origination ({@code SIMPLE} or {@code MUTUAL}), which
   * proxyless gRPC clients cannot do: their clusters get no endpoints ({@link #applyToGrpc}).
   */
  public static boolean originatesTls(TrafficPolicy traffic) {
    ClientTLSSettings tls = traffic == null ? null : traffic.getTls();
    return tls != null
        && (mode(tls) == ClientTLSSettingsTLSmode.SIMPLE
            || mode(tls) == ClientTLSSettingsTLSmode.MUTUAL);
  }

  /** The mode of a {@code tls} that is set; unset is the proto default, DISABLE. */
  private static ClientTLSSettingsTLSmode mode(ClientTLSSettings tls) {
    return tls.getMode() == null ? ClientTLSSettingsTLSmode.DISABLE : tls.getMode();
  }

  /**
   * Sets an Envoy cluster's transport: one TLS socket for {@code ISTIO_MUTUAL} and file-based TLS;
   * for auto mTLS the {@code tlsMode-istio}/{@code tlsMode-disabled} socket matches that endpoint
   * metadata selects between, except on original-destination clusters (no endpoint metadata), which
   * use mTLS only when every endpoint accepts it.
   *
   * <p>A gateway with a {@code credentialName} takes its client certificate (for {@code MUTUAL})
   * and CA from that Secret over SDS; a sidecar ignores it and uses the files, as Istio's sidecars
   * do. {@code MUTUAL} without a client certificate and key (a {@code credentialName} alone) still
   * gets the TLS socket, without a client certificate: servers that require one refuse the
   * handshake, and nothing goes out in plaintext to a destination the user wants reached over TLS.
   *
   * @param endpoints the cluster's endpoints, every health state
   * @param where the cluster and the rule that configured it, for warnings
   * @param warnings where settings it cannot honour are reported
   */
  public void applyToSidecar(
      Cluster.Builder cluster,
      MeshSnapshot snapshot,
      List<Endpoint> endpoints,
      ServicePort port,
      boolean http2,
      boolean gateway,
      String where,
      Warnings warnings) {
    switch (kind) {
      case PLAINTEXT -> {}
      case ISTIO_MUTUAL ->
          cluster.setTransportSocket(
              EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.istioMutual(sni, subjectAltNames, http2)));
      case AUTO -> {
        TransportSocket tls =
            EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.istioMutual(sni, subjectAltNames, http2));
        if (cluster.getType() != Cluster.DiscoveryType.ORIGINAL_DST) {
          cluster.addAllTransportSocketMatches(EnvoyTlsBuilder.autoMtlsMatches(tls));
        } else if (allAcceptMtls(snapshot, endpoints, port)) {
          cluster.setTransportSocket(tls);
        }
      }
      case FILES -> {
        boolean credential =
            settings.getCredentialName() != null && !settings.getCredentialName().isBlank();
        if (credential && gateway) {
          // A gateway's certificates come from the Secret, over SDS (istiod's egress gateways).
          cluster.setTransportSocket(
              EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.fromCredential(settings, http2)));
          return;
        }
        if (credential) {
          warnings.add(
              "{}: tls.credentialName {} is honoured only by gateways; the sidecar uses the"
                  + " certificate files of the same settings",
              where,
              settings.getCredentialName());
        }
        if (mode(settings) == ClientTLSSettingsTLSmode.MUTUAL
            && !EnvoyTlsBuilder.hasClientCertificate(settings)) {
          warnings.add(
              "{}: tls.mode MUTUAL without clientCertificate and privateKey; TLS without a client"
                  + " certificate, which servers that require one refuse",
              where);
        }
        cluster.setTransportSocket(
            EnvoyTlsBuilder.tlsSocket(EnvoyTlsBuilder.fromFiles(settings, http2)));
      }
    }
  }

  /**
   * Sets a proxyless gRPC cluster's transport. grpc-xds has no socket matches, so auto mTLS is all
   * or nothing: mTLS when every endpoint accepts it, else plaintext. grpc-xds reads certificates
   * only from its bootstrap's provider instances, and the one Bosun names holds the mesh's, so
   * there is nothing to originate {@code SIMPLE} or {@code MUTUAL} TLS with: such a cluster fails
   * closed, with no transport socket and no endpoints (see {@link #originatesTls}), rather than
   * sending plaintext.
   */
  public void applyToGrpc(
      Cluster.Builder cluster,
      MeshSnapshot snapshot,
      List<Endpoint> endpoints,
      ServicePort port,
      String where,
      Warnings warnings) {
    switch (kind) {
      case PLAINTEXT -> {}
      case ISTIO_MUTUAL ->
          cluster.setTransportSocket(
              EnvoyTlsBuilder.tlsSocket(GrpcTlsBuilder.client(subjectAltNames)));
      case AUTO -> {
        if (allAcceptMtls(snapshot, endpoints, port)) {
          cluster.setTransportSocket(
              EnvoyTlsBuilder.tlsSocket(GrpcTlsBuilder.client(subjectAltNames)));
        }
      }
      case FILES ->
          warnings.add(
              "{}: tls.mode {} is not supported for proxyless gRPC clients; the cluster gets no"
                  + " endpoints rather than plaintext",
              where,
              settings.getMode());
    }
  }

  private static UpstreamTls plaintext() {
    return new UpstreamTls(Kind.PLAINTEXT, "", List.of(), null);
  }

  /**
   * Whether an endpoint accepts mesh mTLS on {@code port}: its workload has the Istio tlsMode label
   * and its PeerAuthentication does not DISABLE mTLS on the port it listens on.
   */
  public static boolean acceptsMtls(MeshSnapshot snapshot, Endpoint endpoint, ServicePort port) {
    if (!IstioLabels.istioMutualTls(endpoint.labels())) {
      return false;
    }
    int target = endpoint.ports().getOrDefault(port.name(), port.port());
    return PeerAuthenticationPolicy.forEndpoint(snapshot, endpoint).forPort(target)
        != PeerAuthenticationPolicy.Mode.DISABLE;
  }

  /** Whether there are endpoints and every one accepts mesh mTLS. */
  static boolean allAcceptMtls(MeshSnapshot snapshot, List<Endpoint> endpoints, ServicePort port) {
    return !endpoints.isEmpty() && endpoints.stream().allMatch(e -> acceptsMtls(snapshot, e, port));
  }

  /**
   * The SPIFFE identities of a service's workloads (each endpoint's service account), sorted: the
   * SANs a client accepts from its servers.
   */
  static List<String> identities(MeshSnapshot snapshot, MeshService service, String trustDomain) {
    TreeSet<String> identities = new TreeSet<>();
    for (Endpoint endpoint : snapshot.endpoints(service.hostname())) {
      if (!endpoint.serviceAccount().isEmpty()) {
        String namespace =
            endpoint.namespace().isEmpty() ? service.namespace() : endpoint.namespace();
        identities.add(EnvoyNames.spiffeId(trustDomain, namespace, endpoint.serviceAccount()));
      }
    }
    return List.copyOf(identities);
  }
}
