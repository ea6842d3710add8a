package dev.bosun.controlplane.monitor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.crd.IstioJson;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monitoring port (15014 by default): {@code /ready}, {@code /metrics} in Prometheus format,
 * and the debug views {@code /debug/configz} (the config store) and {@code /debug/snapshot} (a
 * summary of the current snapshot). Other components add their own debug pages with {@link
 * #handle}.
 */
public final class MonitoringServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MonitoringServer.class);

  private final HttpServer server;

  /** A debug page: returns the body, or null for 404. */
  @FunctionalInterface
  public interface Page {
    Object render(Map<String, String> query) throws IOException;
  }

  public MonitoringServer(
      InetSocketAddress address,
      MeshModel mesh,
      PrometheusMeterRegistry meters,
      BooleanSupplier extraReady)
      throws IOException {
    server = HttpServer.create(address, 0);
    server.setExecutor(
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread thread = new Thread(r, "bosun-monitoring");
              thread.setDaemon(true);
              return thread;
            }));
    server.createContext(
        "/ready",
        exchange -> {
          boolean ready = mesh.ready() && extraReady.getAsBoolean();
          java.util.Optional<String> failing = mesh.buildError();
          String body =
              ready
                  ? failing
                      .map(e -> "ready, degraded: snapshot builds failing, last: " + e + "\n")
                      .orElse("ready\n")
                  : "not ready: "
                      + (!mesh.pendingSources().isEmpty()
                          ? "waiting for " + String.join(", ", mesh.pendingSources()) + " to sync"
                          : failing
                              .map(e -> "the first snapshot failed to build: " + e)
                              .orElse("first snapshot not built yet"))
                      + "\n";
          send(exchange, ready ? 200 : 503, "text/plain; charset=utf-8", body);
        });
    // Liveness: the process is up and serving HTTP, whatever the state of its sources.
    server.createContext(
        "/healthz", exchange -> send(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
    server.createContext(
        "/metrics",
        exchange ->
            send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
    handle("/debug/configz", query -> configz(mesh.store()));
    handle("/debug/snapshot", query -> snapshot(mesh));
    handle(
        "/debug/registryz",
        query ->
            mesh.snapshot() == null
                ? new NotFound("no snapshot built yet")
                : RegistryPages.registryz(mesh.snapshot(), query.getOrDefault("namespace", "")));
    handle(
        "/debug/endpointz",
        query ->
            mesh.snapshot() == null
                ? new NotFound("no snapshot built yet")
                : RegistryPages.endpointz(
                    mesh.snapshot(),
                    query.getOrDefault("namespace", ""),
                    query.getOrDefault("host", "")));
  }

  /** What a page answers when what was asked for is not here: HTTP 404 with why. */
  public record NotFound(String message) {}

  /** The largest page served; a larger one is refused with a hint to narrow it. */
  private volatile int maxBody = 64 << 20;

  /** Lowers the size limit of pages (tests). */
  void limitPages(int bytes) {
    this.maxBody = bytes;
  }

  /** Serves {@code page} as JSON at {@code path}. */
  public void handle(String path, Page page) {
    server.createContext(
        path,
        exchange -> {
          try {
            Object body = page.render(query(exchange));
            if (body == null) {
              send(exchange, 404, "text/plain; charset=utf-8", "not found\n");
            } else if (body instanceof NotFound notFound) {
              send(exchange, 404, "text/plain; charset=utf-8", notFound.message() + "\n");
            } else {
              String json = json(body);
              if (json.length() > maxBody) {
                send(
                    exchange,
                    413,
                    "text/plain; charset=utf-8",
                    "%s: the answer (%d bytes) is larger than the %d bytes served; narrow it"
                            .formatted(path, json.length(), maxBody)
                        + " (?proxyID=, ?namespace=, ?host=)\n");
              } else {
                send(exchange, 200, "application/json", json);
              }
            }
          } catch (RuntimeException e) {
            log.error("{} failed", path, e);
            send(exchange, 500, "text/plain; charset=utf-8", "internal error: " + e + "\n");
          }
        });
  }

  public MonitoringServer start() {
    server.start();
    log.info("monitoring on {}", address());
    return this;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static Object configz(ConfigStore store) {
    ObjectNode root = IstioJson.json().createObjectNode();
    ArrayNode objects = root.putArray("objects");
    store
        .all()
        .values()
        .forEach(list -> list.stream().map(ConfigEntry::document).forEach(objects::add));
    // Accepted kinds whose objects Bosun does not turn into proxy configuration yet.
    ArrayNode notApplied = root.putArray("notApplied");
    store
        .all()
        .forEach(
            (kind, list) -> {
              if (!kind.applied()) {
                for (ConfigEntry entry : list) {
                  ObjectNode item = notApplied.addObject();
                  item.put("kind", kind.kind());
                  item.put("namespace", entry.key().namespace());
                  item.put("name", entry.key().name());
                  item.put("reason", "Bosun does not apply " + kind.kind() + " objects yet");
                }
              }
            });
    ArrayNode rejected = root.putArray("rejected");
    for (ConfigStore.Rejection rejection : store.rejected()) {
      ObjectNode entry = rejected.addObject();
      entry.put("kind", rejection.key().kind().kind());
      entry.put("namespace", rejection.key().namespace());
      entry.put("name", rejection.key().name());
      entry.put("origin", rejection.origin());
      entry.put("previousVersionInUse", rejection.previousKept());
      ArrayNode errors = entry.putArray("errors");
      rejection.messages().forEach(errors::add);
    }
    return root;
  }

  private static Object snapshot(MeshModel mesh) {
    Map<String, Object> body = new LinkedHashMap<>();
    MeshSnapshot snapshot = mesh.snapshot();
    body.put("ready", mesh.ready());
    body.put("registry", mesh.registryCounts());
    body.put("rejectedConfig", mesh.store().rejected().size());
    if (snapshot != null) {
      body.putAll(snapshot.summary());
    } else {
      body.put("snapshot", null);
      body.put("pendingSources", List.copyOf(mesh.pendingSources()));
    }
    return body;
  }

  private static Map<String, String> query(HttpExchange exchange) {
    Map<String, String> query = new LinkedHashMap<>();
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw == null) {
      return query;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key =
          java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      query.put(key, value);
    }
    return query;
  }

  private static String json(Object body) throws JsonProcessingException {
    return IstioJson.json().writer(SerializationFeature.INDENT_OUTPUT).writeValueAsString(body)
        + "\n";
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
