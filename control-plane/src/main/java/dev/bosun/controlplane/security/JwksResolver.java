package dev.bosun.controlplane.security;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.model.JwksSource;
import dev.bosun.crd.validation.Durations;
import io.fabric8.istio.api.api.security.v1beta1.JWTRule;
import io.fabric8.istio.api.api.security.v1beta1.RequestAuthentication;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the signing keys (JWKS) that RequestAuthentications name, as istiod does by default, so
 * that proxies get them inline and never reach out themselves. Keys are fetched in the background:
 * asking for them never waits on the network. Until a source's first fetch succeeds it has no keys
 * (proxies get {@link JwksSource#FAIL_CLOSED_JWKS}, which refuses every token); a failed refresh
 * keeps the last good keys. Each fetch is bounded (the rule's {@code timeout}, default 5 s, and a
 * size limit), only {@code http} and {@code https} are fetched, and link-local and cloud metadata
 * addresses are refused. When a source's keys change (a first fetch, a rotation), the callback is
 * told, so that only the proxies whose filters use them are pushed.
 */
public final class JwksResolver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JwksResolver.class);

  /** istiod's default time limit of one fetch, when a rule sets no {@code timeout}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** The suffix of the issuer's OpenID discovery document (OpenID Connect Discovery 1.0). */
  static final String DISCOVERY = "/.well-known/openid-configuration";

  /** Addresses outside the link-local ranges that are known cloud instance metadata services. */
  private static final Set<String> METADATA_ADDRESSES =
      Set.of("100.100.100.200", "fd00:ec2:0:0:0:0:0:254");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How keys are fetched.
   *
   * @param refresh how often known keys are fetched again (istiod's default: 20 minutes)
   * @param retry how soon a failed fetch is tried again (istiod's: 1 minute)
   * @param maxBytes the largest document accepted
   * @param ssl the trust for {@code https} sources
   */
  public record Settings(Duration refresh, Duration retry, int maxBytes, SSLContext ssl) {
    public Settings {
      requireNonNull(refresh, "refresh");
      requireNonNull(retry, "retry");
      requireNonNull(ssl, "ssl");
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
      }
    }

    /** istiod's intervals, 256 KiB, and the JVM's trusted roots. */
    public static Settings defaults() {
      try {
        return new Settings(
            Duration.ofMinutes(20), Duration.ofMinutes(1), 256 * 1024, SSLContext.getDefault());
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("no default TLS context", e);
      }
    }

    /** These settings refreshing every {@code interval}. */
    public Settings withRefresh(Duration interval) {
      return new Settings(interval, retry, maxBytes, ssl);
    }

    /** These settings trusting {@code roots} beside the JVM's own trusted roots. */
    public Settings withExtraRoots(List<java.security.cert.X509Certificate> roots)
        throws java.security.GeneralSecurityException {
      javax.net.ssl.TrustManagerFactory jvm =
          javax.net.ssl.TrustManagerFactory.getInstance(
              javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      jvm.init((java.security.KeyStore) null);
      java.security.KeyStore store =
          java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      try {
        store.load(null, null);
      } catch (IOException e) {
        throw new java.security.KeyStoreException(e);
      }
      int n = 0;
      for (var manager : jvm.getTrustManagers()) {
        if (manager instanceof javax.net.ssl.X509TrustManager x509) {
          for (var root : x509.getAcceptedIssuers()) {
            store.setCertificateEntry("jvm-" + n++, root);
          }
        }
      }
      for (var root : roots) {
        store.setCertificateEntry("extra-" + n++, root);
      }
      javax.net.ssl.TrustManagerFactory trust =
          javax.net.ssl.TrustManagerFactory.getInstance(
              javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return new Settings(refresh, retry, maxBytes, context);
    }
  }

  /** What is known of one source. */
  private static final class Entry {
    volatile Duration timeout;
    volatile String keys;
    volatile String error;
    ScheduledFuture<?> next;

    Entry(Duration timeout) {
      this.timeout = timeout;
    }
  }

  private final Settings settings;
  private final HttpClient client;
  private final Consumer<JwksSource> changed;
  private final Map<JwksSource, Entry> entries = new ConcurrentHashMap<>();
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "bosun-jwks");
            thread.setDaemon(true);
            return thread;
          });
  private final Counter fetched;
  private final Counter failed;

  /**
   * @param changed told (on the resolver's thread) when a source's keys change
   */
  public JwksResolver(Settings settings, MeterRegistry meters, Consumer<JwksSource> changed) {
    this.settings = requireNonNull(settings, "settings");
    this.changed = requireNonNull(changed, "changed");
    this.client =
        HttpClient.newBuilder()
            .sslContext(settings.ssl())
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(DEFAULT_TIMEOUT)
            .build();
    this.fetched =
        Counter.builder("pilot_jwks_resolver_network_fetch_success")
            .description("JWKS and OpenID discovery fetches that succeeded")
            .register(meters);
    this.failed =
        Counter.builder("pilot_jwks_resolver_network_fetch_fail")
            .description("JWKS and OpenID discovery fetches that failed")
            .register(meters);
  }

  /**
   * The sources the rules of these RequestAuthentications fetch keys from (rules with inline {@code
   * jwks} fetch nothing), each with the time limit its rule sets.
   */
  public static Map<JwksSource, Duration> sources(List<ConfigEntry> requestAuthentications) {
    Map<JwksSource, Duration> sources = new HashMap<>();
    for (ConfigEntry entry : requestAuthentications) {
      List<JWTRule> rules = entry.spec(RequestAuthentication.class).getJwtRules();
      for (JWTRule rule : rules == null ? List.<JWTRule>of() : rules) {
        if (rule == null || (rule.getJwks() != null && !rule.getJwks().isEmpty())) {
          continue;
        }
        JwksSource source = JwksSource.of(rule);
        if (source.issuer().isEmpty() && source.discovered()) {
          continue; // nowhere to fetch from; the validator reports the rule
        }
        Duration timeout =
            rule.getTimeout() == null
                ? DEFAULT_TIMEOUT
                : Durations.parse(rule.getTimeout())
                    .filter(d -> !d.isNegative() && !d.isZero())
                    .orElse(DEFAULT_TIMEOUT);
        sources.merge(source, timeout, (a, b) -> a.compareTo(b) >= 0 ? a : b);
      }
    }
    return sources;
  }

  /**
   * The keys known now for {@code wanted}, without waiting: sources seen for the first time are
   * fetched in the background (the callback reports them when they arrive), and sources no longer
   * wanted are forgotten.
   */
  public Map<JwksSource, String> keys(Map<JwksSource, Duration> wanted) {
    for (Map.Entry<JwksSource, Duration> source : wanted.entrySet()) {
      Entry entry = entries.get(source.getKey());
      if (entry == null) {
        Entry created = new Entry(source.getValue());
        if (entries.putIfAbsent(source.getKey(), created) == null) {
          schedule(source.getKey(), created, Duration.ZERO);
        }
      } else {
        entry.timeout = source.getValue();
      }
    }
    Map<JwksSource, String> keys = new HashMap<>();
    for (var it = entries.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<JwksSource, Entry> entry = it.next();
      if (!wanted.containsKey(entry.getKey())) {
        it.remove();
        cancel(entry.getValue());
      } else if (entry.getValue().keys != null) {
        keys.put(entry.getKey(), entry.getValue().keys);
      }
    }
    return keys;
  }

  /** Why the last fetch of each source failed, for sources whose last fetch failed. */
  public Map<JwksSource, String> errors() {
    Map<JwksSource, String> errors = new HashMap<>();
    entries.forEach(
        (source, entry) -> {
          if (entry.error != null) {
            errors.put(source, entry.error);
          }
        });
    return errors;
  }

  private synchronized void schedule(JwksSource source, Entry entry, Duration delay) {
    if (scheduler.isShutdown() || entries.get(source) != entry) {
      return;
    }
    entry.next =
        scheduler.schedule(() -> fetch(source, entry), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void cancel(Entry entry) {
    if (entry.next != null) {
      entry.next.cancel(false);
    }
  }

  private void fetch(JwksSource source, Entry entry) {
    if (entries.get(source) != entry) {
      return;
    }
    String keys;
    try {
      keys = download(source, entry.timeout);
    } catch (IOException e) {
      String error = e.getMessage();
      if (!error.equals(entry.error)) {
        log.warn(
            "JWKS of issuer \"{}\": {}; {}",
            source.issuer(),
            error,
            entry.keys == null
                ? "tokens of issuer \"" + source.issuer() + "\" are refused until a fetch succeeds"
                : "the last keys fetched stay in use");
      }
      entry.error = error;
      schedule(source, entry, settings.retry());
      return;
    }
    String previous = entry.keys;
    entry.keys = keys;
    entry.error = null;
    schedule(source, entry, settings.refresh());
    if (!sameKeys(previous, keys)) {
      log.info("JWKS of {}: {} keys", source, previous == null ? "fetched" : "changed");
      try {
        changed.accept(source);
      } catch (RuntimeException e) {
        log.error("JWKS change listener failed", e);
      }
    }
  }

  /** The JWKS document of a source, after OpenID discovery when it names no URI. */
  private String download(JwksSource source, Duration timeout) throws IOException {
    String uri = source.jwksUri();
    if (source.discovered()) {
      String issuer = source.issuer();
      while (issuer.endsWith("/")) {
        issuer = issuer.substring(0, issuer.length() - 1);
      }
      JsonNode discovery = json(get(issuer + DISCOVERY, timeout), issuer + DISCOVERY);
      JsonNode jwksUri = discovery.path("jwks_uri");
      if (!jwksUri.isTextual() || jwksUri.asText().isEmpty()) {
        throw new IOException(issuer + DISCOVERY + ": no jwks_uri in the discovery document");
      }
      uri = jwksUri.asText();
    }
    String body = get(uri, timeout);
    JsonNode jwks = json(body, uri);
    if (!jwks.path("keys").isArray()) {
      throw new IOException(uri + ": not a JWKS (expected a JSON object with a \"keys\" array)");
    }
    return body;
  }

  private static JsonNode json(String body, String uri) throws IOException {
    try {
      JsonNode node = JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw new IOException(uri + ": not a JSON object");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(uri + ": not JSON (" + e.getOriginalMessage() + ")");
    }
  }

  /** The most redirects one fetch follows. */
  private static final int MAX_REDIRECTS = 5;

  /**
   * One bounded GET, following redirects itself so that every address it connects to is checked
   * (never from https to http); the whole of it, redirects included, within {@code timeout}.
   */
  private String get(String address, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI uri = checked(address, null);
    for (int hop = 0; ; hop++) {
      HttpResponse<byte[]> done = send(uri, address, deadline, timeout);
      int status = done.statusCode();
      String location = done.headers().firstValue("Location").orElse(null);
      if (status >= 300 && status < 400 && location != null) {
        if (hop == MAX_REDIRECTS) {
          failed.increment();
          throw new IOException(address + ": more than " + MAX_REDIRECTS + " redirects");
        }
        uri = checked(uri.resolve(location).toString(), uri);
        continue;
      }
      String body = new String(done.body(), StandardCharsets.UTF_8);
      if (status < 200 || status >= 300) {
        failed.increment();
        throw new IOException(address + ": status " + status + " " + excerpt(body));
      }
      fetched.increment();
      return body;
    }
  }

  /**
   * {@code address} as a URI that may be fetched: http or https (not https after an https {@code
   * from}), with a host that resolves to no metadata address.
   */
  private URI checked(String address, URI from) throws IOException {
    URI uri;
    try {
      uri = URI.create(address);
    } catch (IllegalArgumentException e) {
      throw new IOException("\"" + address + "\": not a URI");
    }
    String scheme =
        uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IOException(address + ": only http and https are fetched");
    }
    if (from != null && from.getScheme().equalsIgnoreCase("https") && scheme.equals("http")) {
      throw new IOException(from + ": redirected from https to http (" + address + "), refused");
    }
    if (uri.getHost() == null) {
      throw new IOException(address + ": no host");
    }
    for (InetAddress resolved : InetAddress.getAllByName(uri.getHost())) {
      if (resolved.isLinkLocalAddress() || METADATA_ADDRESSES.contains(resolved.getHostAddress())) {
        throw new IOException(
            address + ": refused: " + resolved.getHostAddress() + " is a metadata address");
      }
    }
    return uri;
  }

  private HttpResponse<byte[]> send(URI uri, String address, long deadline, Duration timeout)
      throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      failed.increment();
      throw new IOException(address + ": no answer within " + timeout.toMillis() + " ms");
    }
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofNanos(left))
            .header("Accept", "application/json")
            .GET()
            .build();
    CompletableFuture<HttpResponse<byte[]>> response =
        client.sendAsync(request, info -> new LimitedBody(settings.maxBytes()));
    try {
      return response.get(left, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      response.cancel(true);
      failed.increment();
      throw new IOException(address + ": no answer within " + timeout.toMillis() + " ms");
    } catch (ExecutionException e) {
      failed.increment();
      Throwable cause = e.getCause();
      if (cause instanceof java.net.http.HttpTimeoutException) {
        throw new IOException(address + ": no answer within " + timeout.toMillis() + " ms");
      }
      throw new IOException(
          address + ": " + (cause.getMessage() == null ? cause : cause.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(address + ": interrupted");
    }
  }

  private static String excerpt(String body) {
    String flat = body.replaceAll("\\s+", " ").trim();
    return flat.length() > 100 ? "\"" + flat.substring(0, 100) + "...\"" : "\"" + flat + "\"";
  }

  /** Whether two documents hold the same keys, in whatever order. */
  private static boolean sameKeys(String previous, String next) {
    if (previous == null) {
      return false;
    }
    if (previous.equals(next)) {
      return true;
    }
    try {
      JsonNode a = JSON.readTree(previous);
      JsonNode b = JSON.readTree(next);
      Set<JsonNode> keysA = new HashSet<>();
      a.path("keys").forEach(keysA::add);
      Set<JsonNode> keysB = new HashSet<>();
      b.path("keys").forEach(keysB::add);
      return keysA.equals(keysB) && a.path("keys").size() == b.path("keys").size();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
