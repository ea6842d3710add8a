package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bosun.ca.KeyAlgorithm;
import dev.bosun.ca.SelfSignedRoot;
import dev.bosun.ca.SigningCa;
import dev.bosun.ca.WorkloadCertificateSigner;
import dev.bosun.controlplane.model.JwksSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * JWKS fetching against a real HTTPS server on loopback, trusted through its own root: first fetch,
 * OpenID discovery, rotation, and every way a fetch can fail (garbage, oversize, slow, unreachable
 * at start, a metadata address), each keeping the last good keys or none.
 */
class JwksResolverTest {
  private static final String KEYS_A = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"}]}";
  private static final String KEYS_AB =
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"},{\"kty\":\"EC\",\"kid\":\"b\"}]}";
  private static final String KEYS_BA =
      "{\"keys\": [{\"kid\":\"b\",\"kty\":\"EC\"}, {\"kty\":\"EC\",\"kid\":\"a\"}]}";

  /** What the server answers per path: a status and a body, or a delay before answering. */
  private record Answer(int status, String body, Duration delay) {
    static Answer ok(String body) {
      return new Answer(200, body, Duration.ZERO);
    }

    /** A redirect: the body is the Location. */
    static Answer redirect(String location) {
      return new Answer(302, location, Duration.ZERO);
    }
  }

  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final List<JwksSource> changed = new CopyOnWriteArrayList<>();
  private HttpsServer server;
  private SSLContext trust;
  private SigningCa ca;
  private JwksResolver resolver;

  @BeforeEach
  void start() throws Exception {
    ca = SelfSignedRoot.generate("jwks", KeyAlgorithm.ecdsaP256(), Clock.systemUTC());
    KeyPair key = KeyAlgorithm.ecdsaP256().generate(new SecureRandom());
    X509Certificate serving =
        new WorkloadCertificateSigner(ca, Clock.systemUTC())
            .issueServing(key.getPublic(), List.of("localhost"), Duration.ofHours(1));
    KeyStore identity = KeyStore.getInstance("PKCS12");
    identity.load(null, null);
    identity.setKeyEntry(
        "serving",
        key.getPrivate(),
        new char[0],
        new X509Certificate[] {serving, ca.signingCertificate()});
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(identity, new char[0]);
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(keys.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/", this::answer);
    server.start();

    KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
    roots.load(null, null);
    roots.setCertificateEntry("root", ca.signingCertificate());
    TrustManagerFactory trusted =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trusted.init(roots);
    trust = SSLContext.getInstance("TLS");
    trust.init(null, trusted.getTrustManagers(), null);
    resolver = resolver(Duration.ofMinutes(20), 64 * 1024);
  }

  @AfterEach
  void stop() {
    resolver.close();
    server.stop(0);
  }

  private JwksResolver resolver(Duration refresh, int maxBytes) {
    return new JwksResolver(
        new JwksResolver.Settings(refresh, Duration.ofMillis(200), maxBytes, trust),
        new SimpleMeterRegistry(),
        changed::add);
  }

  private void answer(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    Answer answer = answers.get(exchange.getRequestURI().getPath());
    if (answer == null) {
      answer = new Answer(404, "no such key set", Duration.ZERO);
    }
    try {
      Thread.sleep(answer.delay().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (answer.status() == 302) {
      exchange.getResponseHeaders().add("Location", answer.body());
    }
    byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
    try (exchange) {
      exchange.sendResponseHeaders(answer.status(), body.length);
      exchange.getResponseBody().write(body);
    } catch (IOException e) {
      // the client gave up
    }
  }

  private String url(String path) {
    return "https://localhost:" + server.getAddress().getPort() + path;
  }

  private JwksSource source(String path) {
    return new JwksSource("https://issuer.example", url(path));
  }

  private static Map<JwksSource, Duration> wanting(JwksSource source) {
    return Map.of(source, Duration.ofSeconds(2));
  }

  @Test
  void firstAsk_returnsNothingAtOnce_thenTheKeysArriveAndAreReported() {
    answers.put("/keys", Answer.ok(KEYS_A));
    JwksSource source = source("/keys");

    assertThat(resolver.keys(wanting(source))).as("never waits on the network").isEmpty();

    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));
    assertThat(resolver.keys(wanting(source))).containsExactly(Map.entry(source, KEYS_A));
    assertThat(resolver.errors()).isEmpty();
  }

  @Test
  void extraRoots_areTrustedBesideTheJvms() throws Exception {
    resolver.close();
    resolver =
        new JwksResolver(
            JwksResolver.Settings.defaults().withExtraRoots(List.of(ca.signingCertificate())),
            new SimpleMeterRegistry(),
            changed::add);
    answers.put("/keys", Answer.ok(KEYS_A));
    JwksSource source = source("/keys");

    resolver.keys(wanting(source));

    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));
  }

  @Test
  void untrustedServer_failsTheFetch() {
    resolver.close();
    resolver =
        new JwksResolver(JwksResolver.Settings.defaults(), new SimpleMeterRegistry(), changed::add);
    answers.put("/keys", Answer.ok(KEYS_A));
    JwksSource source = source("/keys");

    resolver.keys(wanting(source));

    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().containsKey(source));
    assertThat(resolver.errors().get(source)).containsIgnoringCase("certification path");
    assertThat(changed).isEmpty();
  }

  @Test
  void noJwksUri_discoversItFromTheIssuer() {
    answers.put(
        "/tenant/.well-known/openid-configuration",
        Answer.ok("{\"issuer\":\"x\",\"jwks_uri\":\"" + url("/tenant/keys") + "\"}"));
    answers.put("/tenant/keys", Answer.ok(KEYS_A));
    JwksSource source = new JwksSource(url("/tenant/"), "");

    resolver.keys(wanting(source));

    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));
    assertThat(resolver.keys(wanting(source))).containsEntry(source, KEYS_A);
  }

  @Test
  void rotation_isReported_reorderingTheSameKeysIsNot() {
    resolver.close();
    resolver = resolver(Duration.ofMillis(200), 64 * 1024);
    answers.put("/keys", Answer.ok(KEYS_AB));
    JwksSource source = source("/keys");
    resolver.keys(wanting(source));
    await().atMost(Duration.ofSeconds(10)).until(() -> changed.size() == 1);

    answers.put("/keys", Answer.ok(KEYS_BA));
    int before = requests.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() >= before + 3);
    assertThat(changed).as("same keys in another order").hasSize(1);

    answers.put("/keys", Answer.ok(KEYS_A));
    await().atMost(Duration.ofSeconds(10)).until(() -> changed.size() == 2);
    assertThat(resolver.keys(wanting(source))).containsEntry(source, KEYS_A);
  }

  @Test
  void garbageAfterGoodKeys_keepsTheLastGoodKeys_andSaysWhy() {
    resolver.close();
    resolver = resolver(Duration.ofMillis(200), 64 * 1024);
    answers.put("/keys", Answer.ok(KEYS_A));
    JwksSource source = source("/keys");
    resolver.keys(wanting(source));
    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));

    answers.put("/keys", Answer.ok("<html>maintenance</html>"));
    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().containsKey(source));
    assertThat(resolver.errors().get(source)).contains("not JSON");
    assertThat(resolver.keys(wanting(source))).containsEntry(source, KEYS_A);

    answers.put("/keys", Answer.ok("{\"issuer\": \"not a key set\"}"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> String.valueOf(resolver.errors().get(source)).contains("not a JWKS"));
    assertThat(resolver.keys(wanting(source))).containsEntry(source, KEYS_A);
    assertThat(changed).hasSize(1);
  }

  @Test
  void errorStatus_oversize_andSlowAnswers_failTheFetch_withNoKeys() {
    resolver.close();
    resolver = resolver(Duration.ofMinutes(20), 1024);
    answers.put("/down", new Answer(503, "upstream unavailable", Duration.ZERO));
    answers.put("/big", Answer.ok("{\"keys\":[" + "{\"kid\":\"k\"},".repeat(200) + "{}]}"));
    answers.put("/slow", new Answer(200, KEYS_A, Duration.ofSeconds(3)));
    JwksSource down = source("/down");
    JwksSource big = source("/big");
    JwksSource slow = source("/slow");
    Map<JwksSource, Duration> wanted =
        Map.of(
            down, Duration.ofSeconds(2), big, Duration.ofSeconds(2), slow, Duration.ofMillis(300));

    resolver.keys(wanted);

    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().size() == 3);
    assertThat(resolver.errors().get(down)).contains("status 503").contains("upstream unavailable");
    assertThat(resolver.errors().get(big)).contains("larger than the 1024 bytes accepted");
    assertThat(resolver.errors().get(slow)).contains("no answer within 300 ms");
    assertThat(resolver.keys(wanted)).isEmpty();
    assertThat(changed).isEmpty();
  }

  @Test
  void unreachableAtStart_isRetried_untilTheServerAnswers() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    JwksSource source =
        new JwksSource("https://issuer.example", "https://localhost:" + port + "/keys");
    resolver.keys(wanting(source));
    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().containsKey(source));

    HttpsServer late = HttpsServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    late.setHttpsConfigurator(server.getHttpsConfigurator());
    late.createContext("/", this::answer);
    answers.put("/keys", Answer.ok(KEYS_A));
    late.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));
      assertThat(resolver.keys(wanting(source))).containsEntry(source, KEYS_A);
      assertThat(resolver.errors()).doesNotContainKey(source);
    } finally {
      late.stop(0);
    }
  }

  @Test
  void metadataAddresses_andOtherSchemes_areNeverFetched() {
    JwksSource metadata = new JwksSource("x", "http://169.254.169.254/latest/meta-data/");
    JwksSource file = new JwksSource("y", "file:///etc/passwd");

    resolver.keys(Map.of(metadata, Duration.ofSeconds(1), file, Duration.ofSeconds(1)));

    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().size() == 2);
    assertThat(resolver.errors().get(metadata)).contains("169.254.169.254 is a metadata address");
    assertThat(resolver.errors().get(file)).contains("only http and https are fetched");
  }

  @Test
  void redirects_areFollowed_butEveryTargetIsChecked() {
    answers.put("/moved", Answer.redirect("/keys"));
    answers.put("/keys", Answer.ok(KEYS_A));
    answers.put("/to-metadata", Answer.redirect("https://169.254.169.254/latest/meta-data/"));
    answers.put("/downgrade", Answer.redirect("http://localhost:1/keys"));
    answers.put("/loop", Answer.redirect("/loop"));
    JwksSource moved = source("/moved");
    JwksSource metadata = source("/to-metadata");
    JwksSource downgrade = source("/downgrade");
    JwksSource loop = source("/loop");

    resolver.keys(
        Map.of(
            moved, Duration.ofSeconds(2),
            metadata, Duration.ofSeconds(2),
            downgrade, Duration.ofSeconds(2),
            loop, Duration.ofSeconds(2)));

    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(moved));
    await().atMost(Duration.ofSeconds(10)).until(() -> resolver.errors().size() == 3);
    assertThat(resolver.errors().get(metadata)).contains("169.254.169.254 is a metadata address");
    assertThat(resolver.errors().get(downgrade)).contains("redirected from https to http");
    assertThat(resolver.errors().get(loop)).contains("more than 5 redirects");
  }

  @Test
  void sourcesNoLongerWanted_areForgotten() {
    answers.put("/keys", Answer.ok(KEYS_A));
    JwksSource source = source("/keys");
    resolver.keys(wanting(source));
    await().atMost(Duration.ofSeconds(10)).until(() -> changed.contains(source));

    assertThat(resolver.keys(Map.of())).isEmpty();
    assertThat(resolver.keys(wanting(source)))
        .as("asked again: fetched again, in the background")
        .isEmpty();
  }
}
