package dev.bosun.controlplane.xds.envoy;

import java.util.Optional;

/** Envoy resource names as Istio spells them, in one place. */
public final class EnvoyNames {
  private EnvoyNames() {}

  /** The transport socket name Envoy and grpc-xds both require for TLS. */
  public static final String TLS_SOCKET = "envoy.transport_sockets.tls";

  public static final String RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer";

  /** The SDS secret with the workload's own certificate and key (served by the Istio agent). */
  public static final String SDS_DEFAULT = "default";

  /** The SDS secret with the mesh's root certificates. */
  public static final String SDS_ROOT = "ROOTCA";

  /** The Istio agent's local SDS server, as a cluster of its bootstrap. */
  public static final String SDS_CLUSTER = "sds-grpc";

  /**
   * The certificate provider instance a proxyless bootstrap names in {@code certificate_providers};
   * its certificate {@code default} is the workload's, {@code ROOTCA} the roots.
   */
  public static final String GRPC_CERT_PROVIDER = "default";

  /** Endpoint metadata that {@code transport_socket_matches} look at. */
  public static final String TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match";

  /** The key of {@link #TRANSPORT_SOCKET_MATCH} metadata, and its value for Istio mTLS. */
  public static final String TLS_MODE_KEY = "tlsMode";

  public static final String TLS_MODE_ISTIO = "istio";

  /** The transport socket match of endpoints that accept Istio mTLS. */
  public static final String MATCH_TLS_MODE_ISTIO = "tlsMode-istio";

  /** The transport socket match of every other endpoint: plaintext. */
  public static final String MATCH_TLS_MODE_DISABLED = "tlsMode-disabled";

  /**
   * Prefix of the listener a proxyless gRPC server asks for: Istio's bootstrap sets {@code
   * server_listener_resource_name_template} to this plus {@code %s}, which grpc-xds fills with
   * {@code <ip>:<port>}.
   */
  /** Prefix of the SDS resources the control plane serves from Kubernetes Secrets. */
  public static final String KUBERNETES_SECRET = "kubernetes://";

  /** Suffix of the SDS resource that holds a credential's CA certificate. */
  public static final String CA_SUFFIX = "-cacert";

  /**
   * The SDS resource of a {@code credentialName}: {@code kubernetes://<name>} unless it has one.
   */
  public static String credentialResource(String credentialName) {
    return credentialName.contains("://") ? credentialName : KUBERNETES_SECRET + credentialName;
  }

  /**
   * The Secret ({@code namespace/name}) a credential name ({@code name}, {@code
   * kubernetes://[namespace/]name}) reads, for a proxy in {@code namespace}.
   */
  public static String credentialSecret(String credentialName, String namespace) {
    String path =
        credentialName.startsWith(KUBERNETES_SECRET)
            ? credentialName.substring(KUBERNETES_SECRET.length())
            : credentialName;
    return path.contains("/") ? path : namespace + "/" + path;
  }

  public static final String GRPC_SERVER_LISTENER_PREFIX = "xds.istio.io/grpc/lds/inbound/";

  /** A parsed {@code outbound|<port>|<subset>|<host>} cluster name. */
  public record OutboundCluster(int port, String subset, String host) {}

  /** {@code outbound|9080|v1|reviews.shop.svc.cluster.local}. */
  public static String outboundCluster(int port, String subset, String host) {
    return "outbound|" + port + "|" + (subset == null ? "" : subset) + "|" + host;
  }

  /**
   * The SNI Istio clients send for mTLS to a cluster, in DNS SRV form: {@code
   * outbound_.9080_.v1_.reviews.shop.svc.cluster.local} ({@code _} for no subset).
   */
  public static String outboundSni(OutboundCluster cluster) {
    return "outbound_." + cluster.port() + "_." + cluster.subset() + "_." + cluster.host();
  }

  /** A workload's SPIFFE identity: {@code spiffe://<trust domain>/ns/<ns>/sa/<sa>}. */
  public static String spiffeId(String trustDomain, String namespace, String serviceAccount) {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /**
   * A cluster named by its mTLS SNI, {@code outbound_.<port>_.<subset>_.<host>}, as gateways with
   * {@code AUTO_PASSTHROUGH} servers route by (istiod's SNI-DNAT clusters).
   */
  public static Optional<OutboundCluster> parseOutboundSni(String name) {
    String prefix = "outbound_.";
    if (!name.startsWith(prefix)) {
      return Optional.empty();
    }
    String rest = name.substring(prefix.length());
    int portEnd = rest.indexOf("_.");
    if (portEnd < 0) {
      return Optional.empty();
    }
    String afterPort = rest.substring(portEnd + 2);
    int subsetEnd = afterPort.indexOf("_.");
    if (subsetEnd < 0 || subsetEnd + 2 >= afterPort.length()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new OutboundCluster(
              Integer.parseInt(rest.substring(0, portEnd)),
              afterPort.substring(0, subsetEnd),
              afterPort.substring(subsetEnd + 2)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  public static Optional<OutboundCluster> parseOutboundCluster(String name) {
    String[] parts = name.split("\\|", -1);
    if (parts.length != 4 || !parts[0].equals("outbound")) {
      return Optional.empty();
    }
    try {
      return Optional.of(new OutboundCluster(Integer.parseInt(parts[1]), parts[2], parts[3]));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
