package dev.bosun.crd.validation;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Gateway rules: servers, ports, hosts and TLS settings. */
final class GatewayValidator implements SpecValidator {
  /** What istiod's protocol parser takes (case-insensitive). */
  static final Set<String> PROTOCOLS =
      Set.of(
          "HTTP",
          "HTTPS",
          "GRPC",
          "GRPC-WEB",
          "HTTP2",
          "HTTP_PROXY",
          "MONGO",
          "REDIS",
          "MYSQL",
          "TCP",
          "TLS",
          "UDP");

  private static final List<String> TLS_VERSIONS =
      List.of("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3");

  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.labels(spec.field("selector"), out);
    DocNode servers = spec.field("servers");
    if (!servers.hasContent()) {
      out.missing(servers.path(), "at least one server");
    }
    Map<String, FieldPath> portNames = new HashMap<>();
    for (DocNode server : servers.items()) {
      server(server, out);
      String name = server.field("port").field("name").text();
      if (name != null && portNames.putIfAbsent(name, server.path()) != null) {
        out.invalid(
            server.field("port").field("name").path(),
            name,
            "duplicate port name (also used by " + portNames.get(name) + ")",
            "unique port names across servers");
      }
    }
  }

  private static void server(DocNode server, Problems out) {
    DocNode port = server.field("port");
    String bind = server.field("bind").text();
    boolean unixSocket = bind != null && bind.startsWith("unix://");
    // istiod: a server bound to a Unix socket may have port 0.
    if (!(unixSocket && port.field("number").isNumber() && port.field("number").asLong() == 0)) {
      Rules.port(port.field("number"), out);
    }
    if (port.field("targetPort").isSet()) {
      out.add(
          port.field("targetPort").path(),
          "has no effect on a Gateway (expected: no targetPort; the gateway Service's targetPort"
              + " decides the port listened on)");
    }
    String protocol = port.field("protocol").text();
    String upper = protocol == null ? null : protocol.toUpperCase(Locale.ROOT);
    if (protocol != null && !PROTOCOLS.contains(upper)) {
      out.invalid(
          port.field("protocol").path(),
          protocol,
          "one of HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, HTTP_PROXY, MONGO, REDIS, MYSQL, TCP, TLS,"
              + " UDP");
    }
    if (server.field("hosts").isSet() && !server.field("hosts").hasContent()) {
      out.missing(server.field("hosts").path(), "at least one host");
    }
    for (DocNode host : server.field("hosts").strings()) {
      Rules.namespacedHost(host, List.of(".", "*"), false, out);
    }
    DocNode tls = server.field("tls");
    boolean secure = "HTTPS".equals(upper) || "TLS".equals(upper);
    if (secure && !tls.isSet()) {
      out.missing(tls.path(), "TLS settings for an " + upper + " server");
    }
    if (tls.isSet()) {
      tls(tls, upper, out);
    }
  }

  private static final Set<String> HTTP_PROTOCOLS = Set.of("HTTP", "HTTP2", "GRPC", "GRPC-WEB");

  private static void tls(DocNode tls, String protocol, Problems out) {
    String mode = tls.field("mode").text();
    boolean passthrough =
        mode == null || "PASSTHROUGH".equals(mode) || "AUTO_PASSTHROUGH".equals(mode);
    boolean tlsProtocol = "HTTPS".equals(protocol) || "TLS".equals(protocol);
    if (protocol != null && !tlsProtocol) {
      // istiod: a plain-text HTTP server may carry httpsRedirect (its mode is PASSTHROUGH when
      // unset) but no certificates; other plain-text protocols no TLS settings at all.
      boolean files =
          tls.field("caCertificates").hasContent()
              || tls.field("privateKey").hasContent()
              || tls.field("serverCertificate").hasContent();
      if (!HTTP_PROTOCOLS.contains(protocol) || !passthrough || files) {
        out.add(
            tls.path(),
            "set on a "
                + protocol
                + " server (expected: TLS settings only on HTTPS or TLS servers; an HTTP server may"
                + " set httpsRedirect)");
      }
    }
    if ("ISTIO_MUTUAL".equals(mode)) {
      for (String field :
          new String[] {
            "serverCertificate",
            "privateKey",
            "caCertificates",
            "tlsCertificates",
            "credentialName",
            "credentialNames"
          }) {
        if (tls.field(field).hasContent()) {
          out.add(
              tls.field(field).path(),
              "set with mode ISTIO_MUTUAL (expected: none; ISTIO_MUTUAL uses the gateway's"
                  + " workload certificate)");
        }
      }
    }
    boolean credential =
        tls.field("credentialName").hasContent()
            || tls.field("credentialNames").hasContent()
            || tls.field("tlsCertificates").hasContent();
    boolean files =
        tls.field("serverCertificate").hasContent() || tls.field("privateKey").hasContent();
    if ("SIMPLE".equals(mode) || "MUTUAL".equals(mode) || "OPTIONAL_MUTUAL".equals(mode)) {
      if (!credential && !files) {
        out.missing(
            tls.field("credentialName").path(),
            "a credentialName (or serverCertificate and privateKey) for mode " + mode);
      } else if (files && !credential) {
        for (String field : new String[] {"serverCertificate", "privateKey"}) {
          if (!tls.field(field).hasContent()) {
            out.missing(
                tls.field(field).path(),
                "a file path, with the other of serverCertificate/privateKey");
          }
        }
      }
      if (("MUTUAL".equals(mode) || "OPTIONAL_MUTUAL".equals(mode))
          && !credential
          && !tls.field("caCertificates").hasContent()) {
        out.missing(
            tls.field("caCertificates").path(),
            "CA certificates to verify clients for mode " + mode);
      }
    }
    int exclusive = 0;
    for (String field : new String[] {"credentialName", "credentialNames", "tlsCertificates"}) {
      if (tls.field(field).hasContent()) {
        exclusive++;
      }
    }
    if (exclusive > 1) {
      out.add(
          tls.path(),
          "sets more than one of credentialName, credentialNames, tlsCertificates (expected: at most one)");
    }
    String min = tls.field("minProtocolVersion").text();
    String max = tls.field("maxProtocolVersion").text();
    if (min != null
        && max != null
        && !"TLS_AUTO".equals(min)
        && !"TLS_AUTO".equals(max)
        && TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
      out.add(
          tls.path(),
          "minProtocolVersion "
              + min
              + " is above maxProtocolVersion "
              + max
              + " (expected: min <= max)");
    }
  }
}
