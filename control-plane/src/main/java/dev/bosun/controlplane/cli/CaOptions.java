package dev.bosun.controlplane.cli;

import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.WorkloadCertificateOptions;
import dev.bosun.controlplane.security.KubernetesTokenReviewer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options of the mesh CA and the TLS port it serves on ({@code bosun serve}). */
final class CaOptions {
  @Option(
      names = "--namespace",
      defaultValue = "${env:POD_NAMESPACE:-istio-system}",
      description =
          "Bosun's own namespace: CA Secrets, the leader Lease and its serving names (default: $POD_NAMESPACE, else istio-system).")
  String namespace;

  @Option(
      names = "--secure-xds-port",
      defaultValue = "15012",
      description =
          "TLS port for xDS and the certificate service (default: ${DEFAULT-VALUE}; 0 picks a free port;"
              + " -1 serves neither: the CA still signs the webhooks' certificate and its root is still"
              + " published).")
  int securePort;

  @Option(
      names = "--ca-key",
      defaultValue = "ec-p256",
      description =
          "Key of a generated self-signed root: ec-p256 or rsa-<bits> such as rsa-2048 (default: ${DEFAULT-VALUE}).")
  String caKey;

  @Option(
      names = "--workload-cert-ttl",
      defaultValue = "24h",
      converter = MeshOptions.DurationConverter.class,
      description =
          "Lifetime of a workload certificate when none is asked for (default: ${DEFAULT-VALUE}).")
  Duration workloadCertTtl;

  @Option(
      names = "--max-workload-cert-ttl",
      defaultValue = "2160h",
      converter = MeshOptions.DurationConverter.class,
      description =
          "Longest workload certificate lifetime a caller may ask for (default: ${DEFAULT-VALUE}, 90 days).")
  Duration maxWorkloadCertTtl;

  @Option(
      names = "--token-audience",
      defaultValue = KubernetesTokenReviewer.DEFAULT_AUDIENCE,
      description =
          "Audience service-account tokens must be issued for (default: ${DEFAULT-VALUE}).")
  String tokenAudience;

  @Option(
      names = "--csr-rate",
      defaultValue = "10",
      description =
          "Certificate requests per second one identity may make; more get RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  double csrRate;

  @Option(
      names = "--csr-burst",
      defaultValue = "100",
      description =
          "Certificate requests one identity may make at once, e.g. every replica of a Deployment starting together (default: ${DEFAULT-VALUE}).")
  int csrBurst;

  @Option(
      names = "--serving-dns-name",
      paramLabel = "NAME",
      description =
          "Extra DNS name for Bosun's serving certificate (repeatable); istiod.<namespace>.svc and its long forms are always included.")
  List<String> extraDnsNames = new ArrayList<>();

  KeyAlgorithm keyAlgorithm() {
    if (caKey.equals("ec-p256")) {
      return KeyAlgorithm.ecdsaP256();
    }
    if (caKey.startsWith("rsa-")) {
      try {
        return KeyAlgorithm.rsa(Integer.parseInt(caKey.substring(4)));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException(
        "--ca-key: '" + caKey + "' (expected: ec-p256 or rsa-<bits>, e.g. rsa-2048)");
  }

  /** The per-identity CSR limits, checked: a zero rate or burst would refuse every workload. */
  void checkLimits() {
    if (!(csrRate > 0) || Double.isInfinite(csrRate)) {
      throw new IllegalArgumentException(
          "--csr-rate: " + csrRate + " (expected: a number of requests per second > 0)");
    }
    if (csrBurst < 1) {
      throw new IllegalArgumentException("--csr-burst: " + csrBurst + " (expected: >= 1)");
    }
  }

  WorkloadCertificateOptions certificateOptions() {
    return WorkloadCertificateOptions.DEFAULTS
        .withDefaultTtl(workloadCertTtl)
        .withMaxTtl(maxWorkloadCertTtl);
  }

  /** The names Bosun's serving certificate carries: istiod's service names and any extra. */
  List<String> dnsNames(String domainSuffix) {
    List<String> names = new ArrayList<>();
    for (String service : List.of("istiod", "bosun")) {
      names.add(service + "." + namespace + ".svc");
      names.add(service + "." + namespace + ".svc." + domainSuffix);
    }
    names.addAll(extraDnsNames);
    return names;
  }
}
