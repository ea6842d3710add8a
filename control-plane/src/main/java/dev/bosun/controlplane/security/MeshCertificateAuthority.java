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

  /** How often the self-signed root is checked for renewal (istiod's default, 1 h). */
  static final Duration ROOT_CHECK_INTERVAL = Duration.ofHours(1);

  /**
   * The part of the self-signed root's lifetime left when it is renewed (istiod's default grace
   * period, 20%).
   */
  static final double ROOT_GRACE = 0.2;

  /** How long Bosun's own serving certificate lives; it is renewed at half of this. */
  public static final Duration SERVING_TTL = Duration.ofHours(24);

  // Swapped together when the CA Secrets change (a plug-in CA rotated, for instance).
  private volatile SigningCa ca;
  private volatile WorkloadCertificateSigner signer;
  private final MeshCaLoader loader;
  private final WorkloadCertificateOptions certificateOptions;
  private final List<
          io.fabric8.kubernetes.client.informers.SharedIndexInformer<
              io.fabric8.kubernetes.api.model.Secret>>
      secretWatches = new java.util.ArrayList<>();
  private final java.util.concurrent.atomic.AtomicBoolean reloadPending =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final io.micrometer.core.instrument.Counter reloadErrors;
  private java.util.concurrent.ScheduledFuture<?> nextRenewal;
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
  private final List<Runnable> rootListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
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
   * Loads (or creates) the CA and starts serving on the secure port, unless {@code
   * settings.secureAddress()} is null: then the CA signs only Bosun's own serving certificate (for
   * the webhooks) and its root is still published, but no workload can reach it.
   *
   * @throws dev.bosun.ca.CaConfigurationException if a stored CA is broken
   */
  public MeshCertificateAuthority(
      KubernetesClient client, XdsServer xds, Settings settings, MeterRegistry meters, Clock clock)
      throws Exception {
    this.clock = clock;
    this.loader = new MeshCaLoader(client, settings.namespace(), clock);
    this.certificateOptions = settings.certificates();
    this.ca = loader.load(settings.trustDomain(), settings.rootKey());
    this.signer = new WorkloadCertificateSigner(ca, certificateOptions, clock);
    this.reloadErrors =
        io.micrometer.core.instrument.Counter.builder("bosun_ca_reload_errors")
            .description("CA Secret changes that could not be used; the previous CA stays")
            .register(meters);
    this.dnsNames = List.copyOf(settings.dnsNames());
    this.tokens = new KubernetesTokenReviewer(client, settings.tokenAudience());
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
          settings.secureAddress() == null
              ? -1
              : xds.startSecure(
                  settings.secureAddress(),
                  TlsServerCredentials.newBuilder().keyManager(keyManager).build(),
                  new XdsTokenAuthorizer(tokens),
                  List.of(service));
      for (String name :
          List.of(
              dev.bosun.ca.IstioCaSecrets.PLUG_IN_SECRET,
              dev.bosun.ca.IstioCaSecrets.SELF_SIGNED_SECRET)) {
        secretWatches.add(
            client
                .secrets()
                .inNamespace(settings.namespace())
                .withName(name)
                .inform(new SecretChanges(), 0));
      }
      renewals.scheduleAtFixedRate(
          this::checkRootOrLog,
          ROOT_CHECK_INTERVAL.toMillis(),
          ROOT_CHECK_INTERVAL.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (Exception | Error e) {
      // Nothing half-started outlives a failed start.
      secretWatches.forEach(io.fabric8.kubernetes.client.informers.SharedIndexInformer::stop);
      renewals.shutdownNow();
      tokens.close();
      throw e;
    }
  }

  /** The bound secure port, or -1 when the CA serves none. */
  public int securePort() {
    return securePort;
  }

  /**
   * Runs {@code listener} after the root changes (a new plug-in CA taken up), so that whoever
   * distributes the root (the {@code istio-ca-root-cert} publisher, the webhooks' caBundle) sends
   * the new one at once.
   */
  public void onRootChange(Runnable listener) {
    rootListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Bosun's serving identity for {@code istiod.<namespace>.svc}, signed by the mesh CA and renewed
   * in place: the secure xDS port uses it, and so do the admission webhooks.
   */
  public javax.net.ssl.X509ExtendedKeyManager servingKeys() {
    return keyManager;
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
    // At least a minute apart, even when the CA itself is about to expire; one renewal pending at
    // a time, also when a CA change renews early.
    schedule(Duration.ofSeconds(Math.max(60, untilRenewal.toSeconds())));
  }

  private synchronized void schedule(Duration delay) {
    if (nextRenewal != null) {
      nextRenewal.cancel(false);
    }
    nextRenewal = renewals.schedule(this::renewOrRetry, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void renewOrRetry() {
    try {
      renewServingCertificate();
    } catch (Exception e) {
      log.error("renewing the serving certificate failed; retrying in a minute", e);
      schedule(Duration.ofMinutes(1));
    }
  }

  /**
   * Any change to the CA Secrets: reload soon (changes often come in pairs, e.g. delete+create).
   */
  private final class SecretChanges
      implements io.fabric8.kubernetes.client.informers.ResourceEventHandler<
          io.fabric8.kubernetes.api.model.Secret> {
    @Override
    public void onAdd(io.fabric8.kubernetes.api.model.Secret secret) {
      scheduleReload();
    }

    @Override
    public void onUpdate(
        io.fabric8.kubernetes.api.model.Secret old, io.fabric8.kubernetes.api.model.Secret now) {
      scheduleReload();
    }

    @Override
    public void onDelete(io.fabric8.kubernetes.api.model.Secret secret, boolean unknown) {
      scheduleReload();
    }
  }

  private void scheduleReload() {
    if (reloadPending.compareAndSet(false, true)) {
      renewals.schedule(this::reload, 1, TimeUnit.SECONDS);
    }
  }

  /**
   * Takes up a changed CA: a new signer for certificates, a new serving certificate, the new root
   * in every namespace. A broken Secret or a deleted one leaves the running CA as it is.
   */
  private void reload() {
    reloadPending.set(false);
    SigningCa loaded;
    try {
      loaded = loader.reload().orElse(null);
    } catch (dev.bosun.ca.CaConfigurationException | RuntimeException e) {
      reloadErrors.increment();
      log.error(
          "CA Secrets changed but cannot be used; still signing with the previous CA: {}",
          e.getMessage());
      return;
    }
    if (loaded == null) {
      log.warn("CA Secrets are gone; still signing with the CA in memory");
      return;
    }
    if (loaded.equals(ca)) {
      return;
    }
    ca = loaded;
    signer = new WorkloadCertificateSigner(loaded, certificateOptions, clock);
    log.info(
        "CA changed: now signing with {}",
        loaded.signingCertificate().getSubjectX500Principal().getName());
    renewOrRetry();
    rootListeners.forEach(Runnable::run);
  }

  private void checkRootOrLog() {
    try {
      checkRoot();
    } catch (RuntimeException e) {
      log.error("checking the self-signed root for renewal failed; trying again in an hour", e);
    }
  }

  /**
   * Renews the self-signed root once less than {@link #ROOT_GRACE} of its lifetime is left, as
   * istiod does: the same key and subject, a new validity, stored in {@code istio-ca-secret} and
   * taken up at once. Everything the old root signed verifies against the new one, and the other
   * way round, so no workload loses trust. A plugged-in CA ({@code cacerts}) is its operator's to
   * rotate. Returns whether it renewed.
   */
  boolean checkRoot() {
    SigningCa current = ca;
    if (!current.isSelfSigned() || loader.plugInPresent()) {
      return false;
    }
    X509Certificate root = current.signingCertificate();
    java.time.Instant notBefore = root.getNotBefore().toInstant();
    java.time.Instant notAfter = root.getNotAfter().toInstant();
    Duration left = Duration.between(clock.instant(), notAfter);
    Duration grace =
        Duration.ofMillis((long) (Duration.between(notBefore, notAfter).toMillis() * ROOT_GRACE));
    if (left.compareTo(grace) > 0) {
      return false;
    }
    SigningCa renewed =
        dev.bosun.ca.SelfSignedRoot.renew(
            current, dev.bosun.ca.SelfSignedRoot.DEFAULT_VALIDITY, clock);
    loader.storeSelfSigned(renewed);
    log.info(
        "self-signed root renewed (it would have expired {}); the new one, with the same key, expires {}",
        notAfter,
        renewed.signingCertificate().getNotAfter().toInstant());
    reload();
    return true;
  }

  @Override
  public void close() {
    secretWatches.forEach(io.fabric8.kubernetes.client.informers.SharedIndexInformer::stop);
    renewals.shutdownNow();
    tokens.close();
  }
}
