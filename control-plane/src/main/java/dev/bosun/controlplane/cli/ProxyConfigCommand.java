package dev.bosun.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.bosun.crd.IstioJson;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bosun proxy-config cluster|listener|route|endpoint|secret PROXY}: what Bosun last sent a
 * proxy, read from {@code /debug/config_dump} of the replica it is connected to, in {@code istioctl
 * proxy-config}'s tables. It shows configuration, not the proxy's runtime state: endpoint health is
 * what was sent, and outlier ejections are known only to the proxy.
 */
@Command(
    name = "proxy-config",
    mixinStandardHelpOptions = true,
    description =
        "Shows the clusters, listeners, routes, endpoints or secrets Bosun last sent a proxy, as"
            + " istioctl proxy-config does.")
final class ProxyConfigCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "TYPE",
      description = "cluster, listener, route, endpoint or secret.")
  String type;

  @Parameters(index = "1", paramLabel = "PROXY", description = "The proxy's node id.")
  String proxy;

  @Mixin ReplicaOptions target;

  private static final Map<String, String> TYPE_URLS =
      Map.of(
          "cluster", "type.googleapis.com/envoy.config.cluster.v3.Cluster",
          "listener", "type.googleapis.com/envoy.config.listener.v3.Listener",
          "route", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
          "endpoint", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
          "secret", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String typeUrl = TYPE_URLS.get(type);
    if (typeUrl == null) {
      err.println(
          "bosun proxy-config: "
              + type
              + ": expected cluster, listener, route, endpoint or secret");
      return 2;
    }
    if (!target.validOutput()) {
      err.println("bosun proxy-config: -o " + target.output + ": expected table or json");
      return 2;
    }
    JsonNode dump = null;
    HttpClient http = HttpClient.newHttpClient();
    for (String replica : target.replicas) {
      String url =
          (replica.endsWith("/") ? replica.substring(0, replica.length() - 1) : replica)
              + "/debug/config_dump?proxyID="
              + URLEncoder.encode(proxy, StandardCharsets.UTF_8);
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          dump = IstioJson.json().readTree(response.body());
          break;
        }
        if (response.statusCode() != 404) {
          err.println("bosun proxy-config: " + replica + ": HTTP " + response.statusCode());
        }
      } catch (java.io.IOException | IllegalArgumentException e) {
        err.println("bosun proxy-config: " + replica + ": " + e.getMessage());
      }
    }
    if (dump == null) {
      err.println(
          "bosun proxy-config: " + proxy + " is not connected to any of " + target.replicas);
      return 1;
    }
    ArrayNode resources = IstioJson.json().createArrayNode();
    Map<String, Boolean> acked = new java.util.TreeMap<>();
    for (JsonNode stream : dump) {
      for (JsonNode config : stream.path("configs")) {
        if (!config.path("typeUrl").asText().equals(typeUrl)) {
          continue;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = config.path("resources").fields();
            it.hasNext(); ) {
          Map.Entry<String, JsonNode> entry = it.next();
          resources.add(entry.getValue().path("resource"));
          acked.put(entry.getKey(), entry.getValue().path("acknowledged").asBoolean());
        }
      }
    }
    if (target.output.equals("json")) {
      out.println(resources.toPrettyString());
      out.flush();
      return 0;
    }
    List<String[]> rows = new ArrayList<>();
    switch (type) {
      case "cluster" -> clusters(resources, rows);
      case "listener" -> listeners(resources, rows);
      case "route" -> routes(resources, rows);
      case "endpoint" -> endpoints(resources, rows);
      default -> secrets(resources, acked, rows);
    }
    Table.print(out, rows);
    out.flush();
    return 0;
  }

  private static void clusters(ArrayNode clusters, List<String[]> rows) {
    rows.add(
        new String[] {"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"});
    for (JsonNode cluster : clusters) {
      String name = cluster.path("name").asText();
      String[] parts = name.split("\\|", -1);
      // STATIC is the enum's zero, which JSON leaves out.
      String type = cluster.path("type").asText(cluster.has("clusterType") ? "CUSTOM" : "STATIC");
      String rule = "-"; // istiod's istio.config metadata, which Bosun does not send
      if (parts.length == 4) {
        rows.add(
            new String[] {
              parts[3].isEmpty() ? "" : parts[3],
              parts[1],
              parts[2].isEmpty() ? "-" : parts[2],
              parts[0],
              type,
              rule
            });
      } else {
        rows.add(new String[] {name, "-", "-", "-", type, rule});
      }
    }
  }

  private static void listeners(ArrayNode listeners, List<String[]> rows) {
    rows.add(new String[] {"ADDRESSES", "PORT", "MATCH", "DESTINATION"});
    for (JsonNode listener : listeners) {
      JsonNode socket = listener.at("/address/socketAddress");
      String address =
          socket.isMissingNode()
              ? listener.at("/address/pipe/path").asText("")
              : socket.path("address").asText("");
      String port = socket.path("portValue").asText("0");
      List<JsonNode> chains = new ArrayList<>();
      listener.path("filterChains").forEach(chains::add);
      if (listener.has("defaultFilterChain")) {
        chains.add(listener.path("defaultFilterChain"));
      }
      for (JsonNode chain : chains) {
        rows.add(
            new String[] {
              address, port, match(chain.path("filterChainMatch")), destination(chain)
            });
      }
    }
  }

  private static String match(JsonNode match) {
    List<String> parts = new ArrayList<>();
    if (match.has("destinationPort")) {
      parts.add("port " + match.path("destinationPort").asText());
    }
    if (match.has("serverNames")) {
      parts.add("SNI: " + join(match.path("serverNames")));
    }
    if (match.has("transportProtocol")) {
      parts.add("Trans: " + match.path("transportProtocol").asText());
    }
    if (match.has("applicationProtocols")) {
      parts.add("App: " + join(match.path("applicationProtocols")));
    }
    return parts.isEmpty() ? "ALL" : String.join("; ", parts);
  }

  private static String destination(JsonNode chain) {
    List<String> out = new ArrayList<>();
    for (JsonNode filter : chain.path("filters")) {
      JsonNode config = filter.path("typedConfig");
      if (config.has("rds")) {
        out.add("Route: " + config.at("/rds/routeConfigName").asText());
      } else if (config.has("routeConfig")) {
        out.add("Inline Route: " + config.at("/routeConfig/name").asText());
      } else if (config.has("cluster")) {
        out.add("Cluster: " + config.path("cluster").asText());
      }
    }
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  private static void routes(ArrayNode routes, List<String[]> rows) {
    rows.add(new String[] {"NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"});
    for (JsonNode config : routes) {
      for (JsonNode host : config.path("virtualHosts")) {
        List<String> domains = new ArrayList<>();
        host.path("domains").forEach(d -> domains.add(d.asText()));
        String shown =
            domains.isEmpty()
                ? "-"
                : domains.get(0)
                    + (domains.size() > 1 ? " +" + (domains.size() - 1) + " more" : "");
        for (JsonNode route : host.path("routes")) {
          JsonNode match = route.path("match");
          String path =
              match.has("prefix")
                  ? match.path("prefix").asText() + "*"
                  : match.has("path")
                      ? match.path("path").asText()
                      : match.has("safeRegex") ? match.at("/safeRegex/regex").asText() : "/*";
          rows.add(
              new String[] {
                config.path("name").asText(),
                host.path("name").asText(),
                shown,
                path,
                "-" // istiod's istio.config metadata, which Bosun does not send
              });
        }
      }
    }
  }

  private static void endpoints(ArrayNode assignments, List<String[]> rows) {
    rows.add(new String[] {"ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"});
    for (JsonNode assignment : assignments) {
      for (JsonNode locality : assignment.path("endpoints")) {
        for (JsonNode endpoint : locality.path("lbEndpoints")) {
          JsonNode socket = endpoint.at("/endpoint/address/socketAddress");
          rows.add(
              new String[] {
                socket.path("address").asText() + ":" + socket.path("portValue").asText(),
                endpoint.path("healthStatus").asText("HEALTHY"),
                "-",
                assignment.path("clusterName").asText()
              });
        }
      }
    }
  }

  private static void secrets(ArrayNode secrets, Map<String, Boolean> acked, List<String[]> rows) {
    rows.add(
        new String[] {
          "RESOURCE NAME",
          "TYPE",
          "STATUS",
          "VALID CERT",
          "SERIAL NUMBER",
          "NOT AFTER",
          "NOT BEFORE"
        });
    for (JsonNode secret : secrets) {
      String name = secret.path("name").asText();
      boolean ca = secret.has("validationContext");
      JsonNode source =
          ca
              ? secret.at("/validationContext/trustedCa")
              : secret.at("/tlsCertificate/certificateChain");
      String[] row = {
        name,
        ca ? "CA" : "Cert Chain",
        Boolean.TRUE.equals(acked.get(name)) ? "ACTIVE" : "WARMING",
        "-",
        "-",
        "-",
        "-"
      };
      X509Certificate certificate = certificate(source);
      if (certificate != null) {
        Instant now = Instant.now();
        row[3] =
            String.valueOf(
                !now.isBefore(certificate.getNotBefore().toInstant())
                    && !now.isAfter(certificate.getNotAfter().toInstant()));
        row[4] = certificate.getSerialNumber().toString(16);
        row[5] = certificate.getNotAfter().toInstant().toString();
        row[6] = certificate.getNotBefore().toInstant().toString();
      }
      rows.add(row);
    }
  }

  /** The first certificate of a data source (inline string or bytes), or null. */
  private static X509Certificate certificate(JsonNode source) {
    byte[] pem;
    if (source.has("inlineString")) {
      pem = source.path("inlineString").asText().getBytes(StandardCharsets.UTF_8);
    } else if (source.has("inlineBytes")) {
      pem = Base64.getDecoder().decode(source.path("inlineBytes").asText());
    } else {
      return null;
    }
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(pem));
    } catch (java.security.cert.CertificateException e) {
      return null;
    }
  }

  private static String join(JsonNode values) {
    List<String> list = new ArrayList<>();
    values.forEach(v -> list.add(v.asText()));
    return String.join(",", list);
  }
}
