package dev.bosun.controlplane.xds.gateway;

import com.google.protobuf.BoolValue;
import dev.bosun.controlplane.xds.envoy.EnvoyAddresses;
import dev.bosun.controlplane.xds.envoy.EnvoyNames;
import dev.bosun.controlplane.xds.envoy.EnvoyTlsBuilder;
import dev.bosun.controlplane.xds.gateway.GatewayServers.GatewayServer;
import dev.bosun.controlplane.xds.scope.Warnings;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSProtocol;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSmode;
import java.util.List;
import java.util.Optional;

/**
 * The TLS a gateway server terminates, as istiod configures it: the certificate of {@code
 * credentialName} from Bosun over SDS ({@code kubernetes://<name>}, its CA {@code
 * kubernetes://<name>-cacert} for {@code MUTUAL} and {@code OPTIONAL_MUTUAL}), or from files the
 * gateway's agent serves ({@code file-cert:<cert>~<key>}, {@code file-root:<ca>}), or the workload
 * certificate for {@code ISTIO_MUTUAL}; ALPN {@code h2, http/1.1}; the server's protocol versions,
 * cipher suites, subject alternative names and certificate pins.
 */
final class GatewayTls {
  private static final List<String> ALPN = List.of("h2", "http/1.1");

  private static final ConfigSource ADS_V3 = EnvoyAddresses.ADS_V3;

  private GatewayTls() {}

  /** istiod's {@code builtin://}: the gateway's own workload certificate, from its agent. */
  static final String BUILTIN = "builtin://";

  static Optional<DownstreamTlsContext> downstream(GatewayServer server, Warnings warnings) {
    ServerTLSSettings tls = server.tls();
    ServerTLSSettingsTLSmode mode =
        tls.getMode() == null ? ServerTLSSettingsTLSmode.PASSTHROUGH : tls.getMode();
    boolean requireClient =
        mode == ServerTLSSettingsTLSmode.MUTUAL || mode == ServerTLSSettingsTLSmode.ISTIO_MUTUAL;
    boolean validateClient = requireClient || mode == ServerTLSSettingsTLSmode.OPTIONAL_MUTUAL;
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder().addAllAlpnProtocols(ALPN);
    List<String> sans = orEmpty(tls.getSubjectAltNames());
    List<String> credentials = orEmpty(tls.getCredentialNames());
    String credential = blank(tls.getCredentialName()) ? "" : tls.getCredentialName();
    if (mode == ServerTLSSettingsTLSmode.ISTIO_MUTUAL) {
      common
          .addTlsCertificateSdsSecretConfigs(EnvoyTlsBuilder.sds(EnvoyNames.SDS_DEFAULT))
          .setCombinedValidationContext(
              CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                  .setDefaultValidationContext(EnvoyTlsBuilder.sanMatch(sans))
                  .setValidationContextSdsSecretConfig(EnvoyTlsBuilder.sds(EnvoyNames.SDS_ROOT)));
    } else if (!credentials.isEmpty() || !credential.isEmpty()) {
      List<String> names = credentials.isEmpty() ? List.of(credential) : credentials;
      names.forEach(name -> common.addTlsCertificateSdsSecretConfigs(credentialSds(name)));
      String ca =
          blank(tls.getCaCertCredentialName())
              ? EnvoyNames.credentialResource(names.get(0)) + EnvoyNames.CA_SUFFIX
              : EnvoyNames.credentialResource(tls.getCaCertCredentialName());
      if (validateClient) {
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(clientValidation(tls, sans))
                .setValidationContextSdsSecretConfig(
                    ca.equals(BUILTIN + EnvoyNames.CA_SUFFIX)
                        ? EnvoyTlsBuilder.sds(EnvoyNames.SDS_ROOT)
                        : SdsSecretConfig.newBuilder().setName(ca).setSdsConfig(ADS_V3).build()));
      } else if (!sans.isEmpty()) {
        common.setValidationContext(EnvoyTlsBuilder.sanMatch(sans));
      }
    } else if ((!blank(tls.getServerCertificate()) && !blank(tls.getPrivateKey()))
        || (tls.getTlsCertificates() != null && !tls.getTlsCertificates().isEmpty())) {
      // Files the gateway's agent serves: the pair, or each of tlsCertificates (RSA and ECDSA).
      if (tls.getTlsCertificates() != null && !tls.getTlsCertificates().isEmpty()) {
        for (var certificate : tls.getTlsCertificates()) {
          common.addTlsCertificateSdsSecretConfigs(
              EnvoyTlsBuilder.sds(
                  "file-cert:"
                      + certificate.getServerCertificate()
                      + "~"
                      + certificate.getPrivateKey()));
        }
      } else {
        common.addTlsCertificateSdsSecretConfigs(
            EnvoyTlsBuilder.sds(
                "file-cert:" + tls.getServerCertificate() + "~" + tls.getPrivateKey()));
      }
      if (validateClient && !blank(tls.getCaCertificates())) {
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(clientValidation(tls, sans))
                .setValidationContextSdsSecretConfig(
                    EnvoyTlsBuilder.sds("file-root:" + tls.getCaCertificates())));
      } else if (!sans.isEmpty()) {
        common.setValidationContext(EnvoyTlsBuilder.sanMatch(sans));
      }
    } else {
      warnings.add(
          "{}: {} TLS needs credentialName or serverCertificate and privateKey; server left out",
          server.where(),
          mode);
      return Optional.empty();
    }
    if (mode != ServerTLSSettingsTLSmode.ISTIO_MUTUAL) {
      params(tls).ifPresent(common::setTlsParams);
    }
    return Optional.of(
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(common)
            .setRequireClientCertificate(BoolValue.of(requireClient))
            .build());
  }

  private static SdsSecretConfig credentialSds(String name) {
    if (name.equals(BUILTIN)) {
      return EnvoyTlsBuilder.sds(EnvoyNames.SDS_DEFAULT);
    }
    return SdsSecretConfig.newBuilder()
        .setName(EnvoyNames.credentialResource(name))
        .setSdsConfig(ADS_V3)
        .build();
  }

  private static CertificateValidationContext clientValidation(
      ServerTLSSettings tls, List<String> sans) {
    return EnvoyTlsBuilder.sanMatch(sans).toBuilder()
        .addAllVerifyCertificateSpki(orEmpty(tls.getVerifyCertificateSpki()))
        .addAllVerifyCertificateHash(orEmpty(tls.getVerifyCertificateHash()))
        .build();
  }

  /** The server's protocol versions and cipher suites; Envoy's defaults where it sets none. */
  private static Optional<TlsParameters> params(ServerTLSSettings tls) {
    TlsParameters.Builder params = TlsParameters.newBuilder();
    boolean set = false;
    if (tls.getMinProtocolVersion() != null
        && tls.getMinProtocolVersion() != ServerTLSSettingsTLSProtocol.TLS_AUTO) {
      params.setTlsMinimumProtocolVersion(protocol(tls.getMinProtocolVersion()));
      set = true;
    }
    if (tls.getMaxProtocolVersion() != null
        && tls.getMaxProtocolVersion() != ServerTLSSettingsTLSProtocol.TLS_AUTO) {
      params.setTlsMaximumProtocolVersion(protocol(tls.getMaxProtocolVersion()));
      set = true;
    }
    // istiod drops names BoringSSL does not know (and repeats), which would fail the listener.
    List<String> ciphers =
        orEmpty(tls.getCipherSuites()).stream().filter(GatewayTls::validCipher).distinct().toList();
    if (!ciphers.isEmpty()) {
      params.addAllCipherSuites(ciphers);
      set = true;
    }
    return set ? Optional.of(params.build()) : Optional.empty();
  }

  /** The cipher suites istiod lets through to Envoy (BoringSSL's names, without PSK ones). */
  private static final java.util.Set<String> CIPHERS =
      java.util.Set.of(
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-CHACHA20-POLY1305",
          "ECDHE-RSA-CHACHA20-POLY1305",
          "ECDHE-ECDSA-AES128-SHA",
          "ECDHE-RSA-AES128-SHA",
          "ECDHE-ECDSA-AES256-SHA",
          "ECDHE-RSA-AES256-SHA",
          "AES128-GCM-SHA256",
          "AES256-GCM-SHA384",
          "AES128-SHA",
          "AES256-SHA",
          "DES-CBC3-SHA");

  /** As istiod's check: a known name, {@code ALL}, or an expression starting with an operator. */
  static boolean validCipher(String cipher) {
    return cipher.equals("ALL")
        || CIPHERS.contains(cipher)
        || (!cipher.isEmpty() && !Character.isLetterOrDigit(cipher.charAt(0)));
  }

  /** Istio's protocol enum maps one to one onto Envoy's. */
  private static TlsParameters.TlsProtocol protocol(ServerTLSSettingsTLSProtocol version) {
    return switch (version) {
      case TLSV1_0 -> TlsParameters.TlsProtocol.TLSv1_0;
      case TLSV1_1 -> TlsParameters.TlsProtocol.TLSv1_1;
      case TLSV1_2 -> TlsParameters.TlsProtocol.TLSv1_2;
      case TLSV1_3 -> TlsParameters.TlsProtocol.TLSv1_3;
      default -> TlsParameters.TlsProtocol.TLS_AUTO;
    };
  }

  private static List<String> orEmpty(List<String> list) {
    return list == null ? List.of() : list;
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
