package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.security.JwksResolver;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bosun local} with a RequestAuthentication whose keys a loopback JWKS server holds: the
 * selected sidecar's inbound HTTP chains verify tokens with the fetched keys (JWT filter before
 * RBAC), a key rotation reaches that sidecar as an LDS push, and neither a sidecar the policy does
 * not select nor one in another namespace is sent anything.
 */
class RequestAuthenticationPushTest {
  private static final String KEYS_A = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"}]}";
  private static final String KEYS_B = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"b\"}]}";

  @TempDir Path dir;

  private static Node node(String id, String namespace, String app) {
    return TestNodes.sidecar(
        id, namespace, app == null ? java.util.Map.of() : java.util.Map.of("app", app));
  }

  @Test
  void fetchedKeys_reachTheSelectedSidecar_andARotationPushesOnlyIt() throws Exception {
    AtomicReference<String> keys = new AtomicReference<>(KEYS_A);
    HttpServer jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    jwks.createContext(
        "/keys",
        exchange -> {
          byte[] body = keys.get().getBytes(StandardCharsets.UTF_8);
          try (exchange) {
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
          }
        });
    jwks.start();
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    try (ControlPlaneRuntime runtime = LocalRuntimes.ready(dir)) {
      runtime
          .mesh()
          .jwks(
              new JwksResolver.Settings(
                  Duration.ofMillis(300),
                  Duration.ofMillis(300),
                  64 * 1024,
                  javax.net.ssl.SSLContext.getDefault()));
      try (RawAdsClient reviews =
              new RawAdsClient(
                  runtime.xds().port(),
                  node(
                      "sidecar~10.44.0.12~reviews-v1-6b7c5d4f8-a1b2c.bookinfo~bookinfo.svc.cluster.local",
                      "bookinfo",
                      "reviews"));
          RawAdsClient other =
              new RawAdsClient(
                  runtime.xds().port(),
                  node(
                      "sidecar~10.44.9.9~sleep-1.default~default.svc.cluster.local",
                      "default",
                      null));
          RawAdsClient productpage =
              new RawAdsClient(
                  runtime.xds().port(),
                  node(
                      "sidecar~10.44.0.10~productpage-v1-7d6f8c9b5-x2k4p.bookinfo~bookinfo.svc.cluster.local",
                      "bookinfo",
                      "productpage"))) {
        reviews.ack(reviews.request(XdsTypes.LISTENER, List.of()), List.of());
        other.ack(other.request(XdsTypes.LISTENER, List.of()), List.of());
        productpage.ack(productpage.request(XdsTypes.LISTENER, List.of()), List.of());

        Files.writeString(
            dir.resolve("jwt.yaml"),
            """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: reviews-jwt, namespace: bookinfo}
            spec:
              selector: {matchLabels: {app: reviews}}
              jwtRules:
              - issuer: https://id.example.com
                jwksUri: http://127.0.0.1:%d/keys
            """
                .formatted(jwks.getAddress().getPort()));

        JwtAuthentication first = awaitKeys(reviews, KEYS_A);
        assertThat(first.getProvidersOrThrow("origins-0").getIssuer())
            .isEqualTo("https://id.example.com");

        keys.set(KEYS_B);
        awaitKeys(reviews, KEYS_B);
        assertThat(other.next(Duration.ofSeconds(1)))
            .as("nothing applies in its namespace: never pushed")
            .isNull();
        assertThat(productpage.next(Duration.ofSeconds(1)))
            .as("not selected: its listeners did not change, so nothing is sent")
            .isNull();
      } finally {
        jwks.stop(0);
      }
    }
  }

  /**
   * ACKs the sidecar's LDS pushes until its inbound HTTP chain's JWT filter carries {@code keys};
   * checks the filter comes before RBAC and every listener passes Envoy's constraints.
   */
  private static JwtAuthentication awaitKeys(RawAdsClient ads, String keys) throws Exception {
    EnvoyValidator validator = new EnvoyValidator();
    Instant deadline = Instant.now().plusSeconds(30);
    while (Instant.now().isBefore(deadline)) {
      DiscoveryResponse response = ads.next(Duration.ofSeconds(5));
      if (response == null) {
        continue;
      }
      ads.ack(response, List.of());
      if (!response.getTypeUrl().equals(XdsTypes.LISTENER)) {
        continue;
      }
      for (var any : response.getResourcesList()) {
        assertThat(validator.check(RawAdsClient.unpack(any))).isEmpty();
      }
      Optional<JwtAuthentication> jwt = inboundJwt(response);
      if (jwt.isPresent()
          && jwt.get()
              .getProvidersOrThrow("origins-0")
              .getLocalJwks()
              .getInlineString()
              .equals(keys)) {
        return jwt.get();
      }
    }
    throw new AssertionError("no LDS push carried " + keys);
  }

  private static Optional<JwtAuthentication> inboundJwt(DiscoveryResponse lds) throws Exception {
    for (var any : lds.getResourcesList()) {
      Listener listener = RawAdsClient.unpack(any, Listener.class);
      if (!listener.getName().equals("virtualInbound")) {
        continue;
      }
      for (var chain : listener.getFilterChainsList()) {
        for (var filter : chain.getFiltersList()) {
          if (!filter.getTypedConfig().is(HttpConnectionManager.class)) {
            continue;
          }
          List<HttpFilter> filters =
              filter.getTypedConfig().unpack(HttpConnectionManager.class).getHttpFiltersList();
          if (!filters.isEmpty()
              && filters.get(0).getName().equals("envoy.filters.http.jwt_authn")) {
            return Optional.of(filters.get(0).getTypedConfig().unpack(JwtAuthentication.class));
          }
        }
      }
    }
    return Optional.empty();
  }
}
