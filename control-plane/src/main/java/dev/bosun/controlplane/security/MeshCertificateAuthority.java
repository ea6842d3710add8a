package dev.bosun.controlplane.security;

import dev.bosun.ca.IstioCertificateService;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SigningCa;
import dev.bosun.ca.WorkloadCertificateOptions;
import dev.bosun.ca.WorkloadCertificateSigner;
import dev.bosun.xds.XdsServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA side of {@code bosun serve}: the mesh CA loaded or created in Bosun's namespace, a serving
 * certificate for Bosun's own names (renewed at half its life), xDS (authenticated by
 * service-account token, each caller limited to its own proxies) and {@code
 * IstioCertificateService} over TLS on the secure port, and the root published in every namespace
 * by whichever replica leads.
 */
public final class MeshCertificateAuthority implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MeshCertificateAuthority.class);

  /** How long Bosun's own serving certificate lives; it is renewed at half of this. */
  public static final Duration SERVING_TTL = Duration.ofHours(24);

  private final SigningCa ca;
  private final WorkloadCertificateSigner signer;
  private final List<String> dnsNames;
  private final Clock clock;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  private final ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "bosun-serving-cert");
            thread.setDaemon(true);
            return thread;
          });
  private final LeaderElection election;
  private final RootCertPublisher publisher;
  private final int securePort;
  private final KubernetesTokenReviewer tokens;

  /** Settings of the CA that {@code bosun serve} takes from its command line. */
  public record Settings(
      String namespace,
      String trustDomain,
      KeyAlgorithm rootKey,
      WorkloadCertificateOptions certificates,
      String tokenAudience,
      double csrRatePerIdentity,
      int csrBurstPerIdentity,
      List<String> dnsNames,
      InetSocketAddress secureAddress) {}

  /**
   * Loads (or creates) the CA and starts serving on the secure port.
   *
   * @throws dev.bosun.ca.CaConfigurationException if a stored CA is broken
   */
  public MeshCertificateAuthority(
      KubernetesClient client, XdsServer xds, Settings settings, MeterRegistry meters, Clock clock)
      throws Exception {
    this.clock = clock;
    this.ca =
        new MeshCaLoader(client, settings.namespace(), clock)
            .load(settings.trustDomain(), settings.rootKey());
    this.signer = new WorkloadCertificateSigner(ca, settings.certificates(), clock);
    this.dnsNames = List.copyOf(settings.dnsNames());
    this.tokens = new KubernetesTokenReviewer(client, settings.tokenAudience());
    this.publisher = new RootCertPublisher(client, ca::rootPem, meters);
    try {
      renewServingCertificate();
      IstioCertificateService service =
          new IstioCertificateService(
              tokens,
              () -> signer,
              settings.trustDomain(),
              settings.csrRatePerIdentity(),
              settings.csrBurstPerIdentity(),
              meters);
      this.securePort =
          xds.startSecure(
              settings.secureAddress(),
              TlsServerCredentials.newBuilder().keyManager(keyManager).build(),
              new XdsTokenAuthorizer(tokens),
              List.of(service));
      this.election =
          new LeaderElection(client, LeaderElectionSettings.defaults(settings.namespace()))
              .start(publisher::start, publisher::stop);
    } catch (Exception | Error e) {
      // Nothing half-started outlives a failed start.
      publisher.close();
      renewals.shutdownNow();
      tokens.close();
      throw e;
    }
  }

  /** The bound secure port. */
  public int securePort() {
    return securePort;
  }

  /** The root workloads trust, as published in {@code istio-ca-root-cert}. */
  public String rootPem() {
    return ca.rootPem();
  }

  private void renewServingCertificate() throws GeneralSecurityException {
    KeyPair key = KeyAlgorithm.ecdsaP256().generate(new SecureRandom());
    X509Certificate certificate = signer.issueServing(key.getPublic(), dnsNames, SERVING_TTL);
    List<X509Certificate> chain = new java.util.ArrayList<>();
    chain.add(certificate);
    chain.addAll(ca.signerChain());
    keyManager.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), key.getPrivate());
    Duration untilRenewal =
        Duration.between(clock.instant(), certificate.getNotAfter().toInstant()).dividedBy(2);
    log.info(
        "serving certificate for {} valid until {}; renewing in {}",
        dnsNames,
        certificate.getNotAfter().toInstant(),
        untilRenewal);
    renewals.schedule(this::renewOrRetry, Math.max(1, untilRenewal.toSeconds()), TimeUnit.SECONDS);
  }

  private void renewOrRetry() {
    try {
      renewServingCertificate();
    } catch (Exception e) {
      log.error("renewing the serving certificate failed; retrying in a minute", e);
      renewals.schedule(this::renewOrRetry, 1, TimeUnit.MINUTES);
    }
  }

  @Override
  public void close() {
    election.close();
    publisher.close();
    renewals.shutdownNow();
    tokens.close();
  }
}
