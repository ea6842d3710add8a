package dev.bosun.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.bosun.crd.IstioJson;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bosun proxy-status}: every proxy connected to the given Bosun replicas and, per xDS type,
 * whether it has what it was sent, as {@code istioctl proxy-status} shows it: read from each
 * replica's {@code /debug/syncz} on the monitoring port.
 */
@Command(
    name = "proxy-status",
    mixinStandardHelpOptions = true,
    description =
        "Shows, for every proxy connected to the given Bosun replicas, whether each xDS type it"
            + " was sent is acknowledged (SYNCED), waiting for an answer (STALE), refused"
            + " (NACKED, with the proxy's error), never sent (NOT SENT) or not asked for"
            + " (IGNORED).")
final class ProxyStatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "PROXY",
      description = "Only this proxy: its pod.namespace (as in the NAME column) or its node id.")
  String proxy;

  @Mixin ReplicaOptions target;

  @Option(
      names = "--timeout",
      defaultValue = "10s",
      converter = MeshOptions.DurationConverter.class,
      description = "How long to wait for each replica (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** The xDS types shown, with their column names, in istioctl's order. */
  private static final List<String[]> TYPES =
      List.of(
          new String[] {"CDS", "cds"},
          new String[] {"LDS", "lds"},
          new String[] {"EDS", "eds"},
          new String[] {"RDS", "rds"},
          new String[] {"ECDS", "ecds"});

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!target.validOutput()) {
      err.println("bosun proxy-status: -o " + target.output + ": expected table or json");
      return 2;
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
    ArrayNode all = IstioJson.json().createArrayNode();
    List<String[]> rows = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    int unreachable = 0;
    for (String replica : target.replicas) {
      JsonNode syncz;
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create(strip(replica) + "/debug/syncz"))
                    .timeout(timeout)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          throw new java.io.IOException("HTTP " + response.statusCode() + ": " + response.body());
        }
        syncz = IstioJson.json().readTree(response.body());
      } catch (java.io.IOException | IllegalArgumentException e) {
        err.println("bosun proxy-status: " + replica + ": " + e.getMessage());
        unreachable++;
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
      for (JsonNode entry : syncz) {
        String nodeId = entry.path("nodeId").asText();
        if (proxy != null && !proxy.equals(nodeId) && !proxy.equals(name(nodeId))) {
          continue;
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) entry).put("replica", replica);
        all.add(entry);
        String[] row = new String[4 + TYPES.size()];
        row[0] = name(nodeId);
        row[1] = entry.path("cluster_id").asText("");
        for (int i = 0; i < TYPES.size(); i++) {
          JsonNode type = entry.path("types").path(TYPES.get(i)[1]);
          row[2 + i] = status(type);
          if (type.hasNonNull("lastNackError") && !type.path("lastNackError").asText().isEmpty()) {
            errors.add(row[0] + " " + TYPES.get(i)[0] + ": " + type.path("lastNackError").asText());
          }
        }
        row[2 + TYPES.size()] = strip(replica).replaceFirst("^https?://", "");
        row[3 + TYPES.size()] = entry.path("istio_version").asText("");
        rows.add(row);
      }
    }
    if (target.output.equals("json")) {
      out.println(all.toPrettyString());
    } else {
      List<String> header = new ArrayList<>(List.of("NAME", "CLUSTER"));
      TYPES.forEach(type -> header.add(type[0]));
      header.add("BOSUN");
      header.add("VERSION");
      rows.sort(java.util.Comparator.comparing(row -> row[0]));
      rows.add(0, header.toArray(String[]::new));
      Table.print(out, rows);
      errors.forEach(error -> out.println("NACK " + error));
    }
    out.flush();
    if (proxy != null && all.isEmpty() && unreachable == 0) {
      err.println(
          "bosun proxy-status: " + proxy + " is not connected to any of " + target.replicas);
      return 1;
    }
    return unreachable > 0 ? 1 : 0;
  }

  /** istioctl's status of one type, from Bosun's per-type state. */
  static String status(JsonNode type) {
    if (type.isMissingNode()) {
      return "IGNORED";
    }
    if (!type.path("lastNackError").asText("").isEmpty()) {
      return "NACKED";
    }
    String sent = type.path("lastSentNonce").asText("");
    if (sent.isEmpty()) {
      return "NOT SENT";
    }
    return sent.equals(type.path("lastAckedNonce").asText("")) ? "SYNCED" : "STALE";
  }

  /** The proxy as istioctl names it: {@code <pod>.<namespace>}, the third part of its node id. */
  static String name(String nodeId) {
    String[] parts = nodeId.split("~");
    return parts.length == 4 ? parts[2] : nodeId;
  }

  private static String strip(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
