package dev.bosun.controlplane.xds.envoy;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.List;

/**
 * TLS contexts for proxyless gRPC (grpc-xds, gRFC A29): certificates come from the certificate
 * provider instance {@code default} of the client's bootstrap ({@code certificate_providers}, a
 * {@code file_watcher} over the files the Istio agent writes), certificate {@code default} for the
 * workload's own and {@code ROOTCA} for the roots.
 *
 * <p>Validation goes in {@code validation_context}, which grpc-xds reads like the combined form's
 * default context: Envoy's constraints require an SDS secret in the combined form, and grpc-xds
 * rejects one. No {@code tls_params} either: grpc-xds rejects them.
 */
public final class GrpcTlsBuilder {
  private GrpcTlsBuilder() {}

  /** Client side of Istio mTLS; the server's identities as exact SAN matches (any when empty). */
  public static UpstreamTlsContext client(List<String> subjectAltNames) {
    CertificateValidationContext validation =
        EnvoyTlsBuilder.sanMatch(subjectAltNames).toBuilder()
            .setCaCertificateProviderInstance(instance(EnvoyNames.SDS_ROOT))
            .build();
    return UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                .setTlsCertificateProviderInstance(instance(EnvoyNames.SDS_DEFAULT))
                .setValidationContext(validation))
        .build();
  }

  /**
   * Server side of Istio mTLS: a client certificate signed by the mesh roots is required. grpc-xds
   * does not match client SANs on servers; AuthorizationPolicy decides who may call.
   */
  public static DownstreamTlsContext server() {
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                .setTlsCertificateProviderInstance(instance(EnvoyNames.SDS_DEFAULT))
                .setValidationContext(
                    CertificateValidationContext.newBuilder()
                        .setCaCertificateProviderInstance(instance(EnvoyNames.SDS_ROOT))))
        .setRequireClientCertificate(BoolValue.of(true))
        .build();
  }

  private static CertificateProviderPluginInstance instance(String certificate) {
    return CertificateProviderPluginInstance.newBuilder()
        .setInstanceName(EnvoyNames.GRPC_CERT_PROVIDER)
        .setCertificateName(certificate)
        .build();
  }
}
