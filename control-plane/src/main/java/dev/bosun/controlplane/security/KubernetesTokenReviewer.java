package dev.bosun.controlplane.security;

import dev.bosun.ca.TokenAuthenticator;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates a workload's service-account token with a Kubernetes TokenReview, as istiod does:
 * the API server must say the token is authenticated for the CA's audience, and the user it names
 * must be a service account ({@code system:serviceaccount:<namespace>:<name>}).
 */
public final class KubernetesTokenReviewer implements TokenAuthenticator, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KubernetesTokenReviewer.class);
  private static final String PREFIX = "system:serviceaccount:";

  /** How long one review may take before the caller is told to retry. */
  static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(5);

  /** How long an accepted token is taken as still valid without asking again. */
  static final java.time.Duration REMEMBER = java.time.Duration.ofMinutes(1);

  /** The group the API server puts every service account in. */
  private static final String SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";

  /** The audience Istio agents request their CA tokens for. */
  public static final String DEFAULT_AUDIENCE = "istio-ca";

  private final KubernetesClient client;
  private final String audience;

  /**
   * Tokens the API server accepted in the last {@link #REMEMBER} (by fingerprint): a restart of
   * every pod asks for a certificate and opens an ADS stream with the same token, and each would
   * otherwise be one more TokenReview.
   */
  private final com.google.common.cache.Cache<String, CallerIdentity> recent =
      com.google.common.cache.CacheBuilder.newBuilder()
          .expireAfterWrite(REMEMBER)
          .maximumSize(10_000)
          .build();

  /** How long the API server's refusal of a token is taken as still standing. */
  static final java.time.Duration REMEMBER_REFUSAL = java.time.Duration.ofSeconds(5);

  /**
   * Tokens the API server refused in the last {@link #REMEMBER_REFUSAL} (by fingerprint), with why:
   * a client repeating a garbage token costs the API server one review, not one per call. A review
   * that failed (the API server unreachable) is not a refusal and is not remembered.
   */
  private final com.google.common.cache.Cache<String, String> refused =
      com.google.common.cache.CacheBuilder.newBuilder()
          .expireAfterWrite(REMEMBER_REFUSAL)
          .maximumSize(10_000)
          .build();

  /** TokenReviews in flight at most; more callers wait briefly, then are told to retry. */
  static final int MAX_CONCURRENT_REVIEWS = 16;

  private final java.util.concurrent.Semaphore inFlight =
      new java.util.concurrent.Semaphore(MAX_CONCURRENT_REVIEWS);

  /**
   * Reviews through its own fail-fast client to {@code client}'s API server (no retries, a short
   * timeout), so an unreachable API server costs a caller seconds, not a stuck thread.
   */
  public KubernetesTokenReviewer(KubernetesClient client, String audience) {
    this.client = FailFastClient.of(client, TIMEOUT);
    this.audience = audience;
  }

  @Override
  public void close() {
    client.close();
  }

  @Override
  public CallerIdentity authenticate(String token) throws AuthenticationException {
    if (token == null || token.isBlank()) {
      throw new AuthenticationException("no bearer token in the authorization header");
    }
    String key = fingerprint(token);
    CallerIdentity known = recent.getIfPresent(key);
    if (known != null) {
      return known;
    }
    String refusal = refused.getIfPresent(key);
    if (refusal != null) {
      throw new AuthenticationException(refusal);
    }
    boolean admitted;
    try {
      admitted = inFlight.tryAcquire(1, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TokenAuthenticator.Overloaded("interrupted while waiting to review the token");
    }
    if (!admitted) {
      throw new TokenAuthenticator.Overloaded(
          MAX_CONCURRENT_REVIEWS + " token reviews are already in flight; retry later");
    }
    try {
      CallerIdentity identity = review(token);
      recent.put(key, identity);
      return identity;
    } catch (Refused e) {
      refused.put(key, e.getMessage());
      throw e;
    } finally {
      inFlight.release();
    }
  }

  /** The API server's answer was no (not a failure to ask it). */
  private static final class Refused extends AuthenticationException {
    Refused(String message) {
      super(message);
    }
  }

  /** SHA-256 of the token: the cache never holds a usable credential. */
  private static String fingerprint(String token) {
    try {
      return java.util.HexFormat.of()
          .formatHex(
              java.security.MessageDigest.getInstance("SHA-256")
                  .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private CallerIdentity review(String token) throws AuthenticationException {
    TokenReview request =
        new TokenReviewBuilder()
            .withNewSpec()
            .withToken(token)
            .withAudiences(audience)
            .endSpec()
            .build();
    TokenReview review;
    try {
      review = client.authentication().v1().tokenReviews().create(request);
    } catch (KubernetesClientException e) {
      log.warn("TokenReview failed: {}", e.getMessage());
      throw new AuthenticationException("could not review the token: " + e.getMessage());
    }
    TokenReviewStatus status = review == null ? null : review.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String error = status == null || status.getError() == null ? "" : ": " + status.getError();
      throw new Refused("the token is not authenticated" + error);
    }
    List<String> audiences = status.getAudiences();
    if (audiences != null && !audiences.isEmpty() && !audiences.contains(audience)) {
      throw new Refused("the token is for audiences " + audiences + ", not " + audience);
    }
    String user = status.getUser() == null ? null : status.getUser().getUsername();
    List<String> groups = status.getUser() == null ? null : status.getUser().getGroups();
    if (user == null
        || !user.startsWith(PREFIX)
        || groups == null
        || !groups.contains(SERVICE_ACCOUNTS_GROUP)) {
      // Another authenticator in the API server's chain may return a name shaped like a service
      // account's; only the service-account group proves it is one.
      throw new Refused("the token's user " + user + " is not a service account");
    }
    String[] parts = user.substring(PREFIX.length()).split(":", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new Refused("the token's user " + user + " is not a service account");
    }
    return new CallerIdentity(parts[0], parts[1]);
  }
}
