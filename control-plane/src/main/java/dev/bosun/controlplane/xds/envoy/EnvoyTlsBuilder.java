package dev.bosun.controlplane.xds.envoy;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.fabric8.istio.api.api.networking.v1alpha3.ClientTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ClientTLSSettingsTLSmode;
import java.util.List;

/**
 * TLS contexts for Envoy sidecars, as istiod builds them. Certificates come from the Istio agent's
 * SDS server (cluster {@code sds-grpc} of the agent's bootstrap): the workload's as {@code
 * default}, the mesh roots as {@code ROOTCA}, and certificate files a DestinationRule names as
 * {@code file-cert:<cert>~<key>} and {@code file-root:<ca>}, which the agent reads and serves.
 */
public final class EnvoyTlsBuilder {
  private EnvoyTlsBuilder() {}

  /** Server cipher suites of Istio sidecars. */
  static final List<String> SERVER_CIPHERS =
      List.of(
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "AES256-GCM-SHA384",
          "AES128-GCM-SHA256");

  /** ALPN of in-mesh mTLS: the peer-exchange marker, then {@code istio}. */
  static final List<String> MESH_ALPN = List.of("istio-peer-exchange", "istio");

  static final List<String> MESH_ALPN_H2 = List.of("istio-peer-exchange", "istio", "h2");

  /** ALPN values only Istio clients send: how PERMISSIVE tells mesh mTLS from other TLS. */
  public static final List<String> MESH_CLIENT_ALPNS =
      List.of("istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2");

  private static final List<String> SERVER_ALPN_HTTP = List.of("h2", "http/1.1");
  private static final List<String> SERVER_ALPN_TCP =
      List.of("istio-peer-exchange", "h2", "http/1.1");

  private static final Struct ISTIO_TLS_MODE =
      Struct.newBuilder()
          .putFields(
              EnvoyNames.TLS_MODE_KEY,
              Value.newBuilder().setStringValue(EnvoyNames.TLS_MODE_ISTIO).build())
          .build();

  /** The secret {@code name} from the agent's SDS server, fetched with no initial timeout. */
  public static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(
            ConfigSource.newBuilder()
                .setApiConfigSource(
                    ApiConfigSource.newBuilder()
                        .setApiType(ApiConfigSource.ApiType.GRPC)
                        .setSetNodeOnFirstMessageOnly(true)
                        .setTransportApiVersion(ApiVersion.V3)
                        .addGrpcServices(
                            GrpcService.newBuilder()
                                .setEnvoyGrpc(
                                    GrpcService.EnvoyGrpc.newBuilder()
                                        .setClusterName(EnvoyNames.SDS_CLUSTER))))
                .setInitialFetchTimeout(Duration.getDefaultInstance())
                .setResourceApiVersion(ApiVersion.V3))
        .build();
  }

  /**
   * Client side of Istio mTLS ({@code ISTIO_MUTUAL}, or auto mTLS): the workload certificate, the
   * mesh roots, the server's identities as exact SAN matches (any mesh identity when empty).
   */
  public static UpstreamTlsContext istioMutual(
      String sni, List<String> subjectAltNames, boolean http2) {
    CommonTlsContext.Builder common =
        clientCommon()
            .addAllAlpnProtocols(http2 ? MESH_ALPN_H2 : MESH_ALPN)
            .addTlsCertificateSdsSecretConfigs(sds(EnvoyNames.SDS_DEFAULT))
            .setCombinedValidationContext(
                CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                    .setDefaultValidationContext(sanMatch(subjectAltNames))
                    .setValidationContextSdsSecretConfig(sds(EnvoyNames.SDS_ROOT)));
    return UpstreamTlsContext.newBuilder().setCommonTlsContext(common).setSni(sni).build();
  }

  /**
   * Client TLS with certificates from files ({@code SIMPLE}, or {@code MUTUAL} with a client
   * certificate). {@code MUTUAL} without both certificate and key presents no client certificate:
   * the context is still TLS, so a server that requires one refuses the handshake.
   */
  public static UpstreamTlsContext fromFiles(ClientTLSSettings tls, boolean http2) {
    CommonTlsContext.Builder common = clientCommon();
    if (tls.getMode() == ClientTLSSettingsTLSmode.MUTUAL && hasClientCertificate(tls)) {
      common.addTlsCertificateSdsSecretConfigs(
          sds("file-cert:" + tls.getClientCertificate() + "~" + tls.getPrivateKey()));
    }
    if (Boolean.TRUE.equals(tls.getInsecureSkipVerify())) {
      common.setValidationContext(CertificateValidationContext.getDefaultInstance());
    } else {
      CertificateValidationContext.Builder validation =
          sanMatch(tls.getSubjectAltNames() == null ? List.of() : tls.getSubjectAltNames())
              .toBuilder();
      if (!blank(tls.getCaCrl())) {
        validation.setCrl(DataSource.newBuilder().setFilename(tls.getCaCrl()));
      }
      String ca = blank(tls.getCaCertificates()) ? "system" : tls.getCaCertificates();
      common.setCombinedValidationContext(
          CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
              .setDefaultValidationContext(validation)
              .setValidationContextSdsSecretConfig(sds("file-root:" + ca)));
    }
    return originating(common, tls, http2);
  }

  /**
   * A gateway's TLS origination with a DestinationRule's {@code credentialName}: the Secret's
   * certificate and key for {@code MUTUAL}, its CA ({@code kubernetes://<name>-cacert}) to verify
   * the server, both over SDS on the ADS stream.
   */
  public static UpstreamTlsContext fromCredential(ClientTLSSettings tls, boolean http2) {
    String name = EnvoyNames.credentialResource(tls.getCredentialName());
    ConfigSource ads = EnvoyAddresses.ADS_V3;
    CommonTlsContext.Builder common = clientCommon();
    if (tls.getMode() == ClientTLSSettingsTLSmode.MUTUAL) {
      common.addTlsCertificateSdsSecretConfigs(
          SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ads));
    }
    if (Boolean.TRUE.equals(tls.getInsecureSkipVerify())) {
      common.setValidationContext(CertificateValidationContext.getDefaultInstance());
    } else {
      common.setCombinedValidationContext(
          CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
              .setDefaultValidationContext(
                  sanMatch(tls.getSubjectAltNames() == null ? List.of() : tls.getSubjectAltNames()))
              .setValidationContextSdsSecretConfig(
                  SdsSecretConfig.newBuilder()
                      .setName(name + EnvoyNames.CA_SUFFIX)
                      .setSdsConfig(ads)));
    }
    return originating(common, tls, http2);
  }

  /** An upstream context around {@code common}: ALPN {@code h2} for HTTP/2, the rule's SNI. */
  private static UpstreamTlsContext originating(
      CommonTlsContext.Builder common, ClientTLSSettings tls, boolean http2) {
    if (http2) {
      common.addAlpnProtocols("h2");
    }
    UpstreamTlsContext.Builder context =
        UpstreamTlsContext.newBuilder().setCommonTlsContext(common);
    if (!blank(tls.getSni())) {
      context.setSni(tls.getSni());
    }
    return context.build();
  }

  /** Whether {@code tls} names both a client certificate file and its private key. */
  public static boolean hasClientCertificate(ClientTLSSettings tls) {
    return !blank(tls.getClientCertificate()) && !blank(tls.getPrivateKey());
  }

  /**
   * Server side of Istio mTLS: a client certificate from the mesh is required; any mesh identity is
   * accepted here (AuthorizationPolicy narrows it). TCP listeners also offer the peer-exchange
   * ALPN.
   */
  public static DownstreamTlsContext istioMutualServer(boolean tcp) {
    CommonTlsContext.Builder common =
        CommonTlsContext.newBuilder()
            .setTlsParams(
                TlsParameters.newBuilder()
                    .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                    .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3)
                    .addAllCipherSuites(SERVER_CIPHERS))
            .addAllAlpnProtocols(tcp ? SERVER_ALPN_TCP : SERVER_ALPN_HTTP)
            .addTlsCertificateSdsSecretConfigs(sds(EnvoyNames.SDS_DEFAULT))
            .setCombinedValidationContext(
                CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                    .setDefaultValidationContext(CertificateValidationContext.getDefaultInstance())
                    .setValidationContextSdsSecretConfig(sds(EnvoyNames.SDS_ROOT)));
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common)
        .setRequireClientCertificate(BoolValue.of(true))
        .build();
  }

  /** A TLS transport socket around an (already checked) upstream or downstream context. */
  public static TransportSocket tlsSocket(Message context) {
    return TransportSocket.newBuilder()
        .setName(EnvoyNames.TLS_SOCKET)
        .setTypedConfig(Any.pack(context))
        .build();
  }

  static TransportSocket rawBufferSocket() {
    return TransportSocket.newBuilder()
        .setName(EnvoyNames.RAW_BUFFER_SOCKET)
        .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance()))
        .build();
  }

  /**
   * Auto mTLS: the TLS socket for endpoints whose metadata says {@code tlsMode: istio}, plaintext
   * for every other endpoint.
   */
  public static List<Cluster.TransportSocketMatch> autoMtlsMatches(TransportSocket tls) {
    return List.of(
        Cluster.TransportSocketMatch.newBuilder()
            .setName(EnvoyNames.MATCH_TLS_MODE_ISTIO)
            .setMatch(ISTIO_TLS_MODE)
            .setTransportSocket(tls)
            .build(),
        Cluster.TransportSocketMatch.newBuilder()
            .setName(EnvoyNames.MATCH_TLS_MODE_DISABLED)
            .setMatch(Struct.getDefaultInstance())
            .setTransportSocket(rawBufferSocket())
            .build());
  }

  /** The metadata of an endpoint that accepts Istio mTLS, matched by {@code tlsMode-istio}. */
  public static io.envoyproxy.envoy.config.core.v3.Metadata istioMtlsEndpointMetadata() {
    return io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
        .putFilterMetadata(EnvoyNames.TRANSPORT_SOCKET_MATCH, ISTIO_TLS_MODE)
        .build();
  }

  private static CommonTlsContext.Builder clientCommon() {
    return CommonTlsContext.newBuilder()
        .setTlsParams(
            TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3));
  }

  @SuppressWarnings("deprecation") // match_subject_alt_names: what istiod sends and grpc-xds reads
  public static CertificateValidationContext sanMatch(List<String> subjectAltNames) {
    CertificateValidationContext.Builder validation = CertificateValidationContext.newBuilder();
    for (String san : subjectAltNames) {
      validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
    }
    return validation.build();
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
