package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import dev.bosun.crd.validation.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/** Options shared by the modes that run the control plane. */
final class MeshOptions {
  @Option(
      names = "--monitoring-port",
      defaultValue = "15014",
      description =
          "Port for /ready, /metrics and /debug/* (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int monitoringPort;

  @Option(
      names = "--monitoring-address",
      defaultValue = "0.0.0.0",
      description = "Address the monitoring port binds to (default: ${DEFAULT-VALUE}).")
  String monitoringAddress;

  @Option(
      names = "--domain-suffix",
      defaultValue = "cluster.local",
      description = "Cluster DNS suffix of service host names (default: ${DEFAULT-VALUE}).")
  String domainSuffix;

  @Option(
      names = "--root-namespace",
      defaultValue = "istio-system",
      description =
          "Namespace whose Sidecars and policies apply mesh-wide; when given, wins over the mesh"
              + " config's rootNamespace (default: the mesh config's, else ${DEFAULT-VALUE}).")
  String rootNamespace;

  @Option(
      names = "--trust-domain",
      defaultValue = MeshSettings.DEFAULT_TRUST_DOMAIN,
      description =
          "Trust domain of workload identities: SANs spiffe://<trust domain>/ns/<ns>/sa/<sa>; when"
              + " given, wins over the mesh config's trustDomain (default: the mesh config's, else"
              + " ${DEFAULT-VALUE}).")
  String trustDomain;

  @Option(
      names = "--debounce-quiet",
      defaultValue = "100ms",
      converter = DurationConverter.class,
      description = "Push once no change has arrived for this long (default: ${DEFAULT-VALUE}).")
  Duration debounceQuiet;

  @Option(
      names = "--debounce-max",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "Push at the latest this long after the first pending change (default: ${DEFAULT-VALUE}).")
  Duration debounceMax;

  @Option(
      names = "--xds-port",
      defaultValue = "15010",
      description = "Plaintext xDS (ADS) port (default: ${DEFAULT-VALUE}; 0 picks a free port).")
  int xdsPort;

  @Option(
      names = "--xds-address",
      defaultValue = "0.0.0.0",
      description = "Address the xDS port binds to (default: ${DEFAULT-VALUE}).")
  String xdsAddress;

  @Option(
      names = "--max-connection-age",
      defaultValue = "30m",
      converter = DurationConverter.class,
      description =
          "Close xDS connections after this long so clients rebalance across replicas (default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAge;

  @Option(
      names = "--xds-stream-rate",
      defaultValue = "25",
      description =
          "New xDS streams accepted per second; more get RESOURCE_EXHAUSTED and retry (default: ${DEFAULT-VALUE}).")
  double xdsStreamRate;

  @Option(
      names = "--xds-push-concurrency",
      defaultValue = "100",
      description =
          "Streams that may be sending at once; the others wait their turn, which bounds the memory"
              + " a connect storm or a mesh-wide push holds in send buffers (default: ${DEFAULT-VALUE},"
              + " as istiod's PILOT_PUSH_THROTTLE).")
  int xdsPushConcurrency;

  @Option(
      names = "--xds-turn-timeout",
      defaultValue = "5s",
      converter = DurationConverter.class,
      description =
          "How long a stream whose client stops reading keeps its turn to send before the next"
              + " stream gets it (default: ${DEFAULT-VALUE}).")
  Duration xdsTurnTimeout;

  @Option(
      names = "--jwks-refresh-interval",
      defaultValue = "20m",
      converter = DurationConverter.class,
      description =
          "How often the signing keys (JWKS) RequestAuthentications name are fetched again; a"
              + " failed fetch is retried after 1m (default: ${DEFAULT-VALUE}, as istiod's"
              + " PILOT_JWT_PUB_KEY_REFRESH_INTERVAL).")
  Duration jwksRefreshInterval;

  @Option(
      names = "--jwks-ca-bundle",
      paramLabel = "FILE",
      description =
          "PEM file of CA certificates trusted, beside the JVM's, when fetching JWKS and OpenID"
              + " discovery documents over https (for issuers such as an in-cluster Keycloak).")
  java.nio.file.Path jwksCaBundle;

  /** How RequestAuthentications' keys are fetched, from the JWKS flags. */
  dev.bosun.controlplane.security.JwksResolver.Settings jwksSettings()
      throws java.io.IOException, java.security.GeneralSecurityException {
    var settings =
        dev.bosun.controlplane.security.JwksResolver.Settings.defaults()
            .withRefresh(jwksRefreshInterval);
    if (jwksCaBundle == null) {
      return settings;
    }
    java.util.List<java.security.cert.X509Certificate> roots;
    try {
      roots = dev.bosun.ca.Pem.certificates(java.nio.file.Files.readString(jwksCaBundle));
    } catch (IllegalArgumentException e) {
      throw new java.io.IOException("--jwks-ca-bundle " + jwksCaBundle + " " + e.getMessage());
    } catch (java.io.IOException e) {
      throw new java.io.IOException("--jwks-ca-bundle " + jwksCaBundle + ": cannot be read: " + e);
    }
    if (roots.isEmpty()) {
      throw new java.io.IOException(
          "--jwks-ca-bundle "
              + jwksCaBundle
              + ": holds no certificates (expected: PEM CERTIFICATE blocks)");
    }
    return settings.withExtraRoots(roots);
  }

  dev.bosun.xds.XdsServerSettings xdsSettings() {
    return dev.bosun.xds.XdsServerSettings.defaults(
            new java.net.InetSocketAddress(xdsAddress, xdsPort))
        .withMaxConnectionAge(maxConnectionAge)
        .withStreamRate(xdsStreamRate, (int) Math.max(1, Math.ceil(xdsStreamRate * 4)))
        .withPushConcurrency(xdsPushConcurrency, xdsTurnTimeout);
  }

  MeshSettings settings() {
    return new MeshSettings(domainSuffix, rootNamespace, debounceQuiet, debounceMax, trustDomain);
  }

  /** The settings with the root namespace and trust domain of the mesh config in force. */
  MeshSettings settings(MeshConfig config) {
    return new MeshSettings(
        domainSuffix, config.rootNamespace(), debounceQuiet, debounceMax, config.trustDomain());
  }

  /**
   * The flags given explicitly on {@code command}'s line, which win over the mesh config; a flag
   * left at its default does not.
   */
  MeshConfigStore.Overrides overrides(CommandSpec command) {
    ParseResult parsed = command.commandLine().getParseResult();
    return new MeshConfigStore.Overrides(
        parsed.hasMatchedOption("--root-namespace")
            ? java.util.Optional.of(rootNamespace)
            : java.util.Optional.empty(),
        parsed.hasMatchedOption("--trust-domain")
            ? java.util.Optional.of(trustDomain)
            : java.util.Optional.empty());
  }

  /** Durations as Istio writes them: {@code 100ms}, {@code 1.5s}, {@code 1m}. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value)
          .filter(d -> !d.isNegative())
          .orElseThrow(
              () ->
                  new TypeConversionException(
                      "'" + value + "' (expected: " + Durations.EXPECTED + ")"));
    }
  }
}
