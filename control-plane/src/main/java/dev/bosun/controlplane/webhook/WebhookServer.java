package dev.bosun.controlplane.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bosun.crd.IstioJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS server the API server calls admission webhooks on (port 15017 behind the {@code istiod}
 * Service's 443), with Bosun's serving certificate for {@code istiod.<ns>.svc}. It serves one
 * {@link AdmissionHandler} per path ({@code /validate}, {@code /inject}); requests are bounded in
 * size, and a malformed one costs only its sender.
 */
public final class WebhookServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);

  /** The API server sends one object per review; Kubernetes objects are at most ~1.5 MB. */
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final HttpsServer server;
  private final ExecutorService executor;

  /**
   * @param keys the serving identity; renewed certificates are used by new connections
   * @param handlers the webhook of each path; a path also serves the paths below it ({@code
   *     /inject/cluster/c1/net/n1}), as istiod's mux does
   */
  public WebhookServer(
      InetSocketAddress address,
      X509ExtendedKeyManager keys,
      Map<String, AdmissionHandler> handlers)
      throws IOException, GeneralSecurityException {
    if (handlers.isEmpty()) {
      throw new IllegalArgumentException("handlers: {} (expected: at least one webhook path)");
    }
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(new KeyManager[] {keys}, null, null);
    server = HttpsServer.create(address, 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    executor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread thread = new Thread(r, "bosun-webhook");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    handlers.forEach(
        (path, handler) -> server.createContext(path, exchange -> serve(handler, exchange)));
  }

  public WebhookServer start() {
    server.start();
    log.info("admission webhooks over HTTPS on {}", address());
    return this;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void serve(AdmissionHandler handler, HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("POST")) {
        error(
            handler, exchange, 405, "method " + exchange.getRequestMethod() + " (expected: POST)");
        return;
      }
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      if (type == null || !type.split(";")[0].trim().equals("application/json")) {
        error(handler, exchange, 415, "invalid Content-Type " + type + ", want `application/json`");
        return;
      }
      byte[] body = read(exchange.getRequestBody());
      if (body == null) {
        error(handler, exchange, 413, "body over " + MAX_BODY_BYTES + " bytes");
        return;
      }
      if (body.length == 0) {
        error(handler, exchange, 400, "no body found");
        return;
      }
      JsonNode review;
      try {
        review = IstioJson.json().readTree(body);
      } catch (JsonProcessingException e) {
        review = null;
      }
      byte[] answer =
          IstioJson.json()
              .writeValueAsBytes(
                  review == null || !review.isObject()
                      ? handler.undecodable("not a JSON AdmissionReview")
                      : handler.review(review));
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, answer.length);
      exchange.getResponseBody().write(answer);
    } catch (IOException | RuntimeException e) {
      log.warn("webhook request from {} failed: {}", exchange.getRemoteAddress(), e.toString());
      throw e;
    }
  }

  /** The body, or null when it is larger than {@link #MAX_BODY_BYTES}. */
  private static byte[] read(InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
    return body.length > MAX_BODY_BYTES ? null : body;
  }

  private static void error(
      AdmissionHandler handler, HttpExchange exchange, int status, String message)
      throws IOException {
    handler.httpError(status);
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
