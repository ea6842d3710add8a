package dev.bosun.crd.validation;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** DestinationRule traffic policies: load balancing, connection pools, outlier detection, TLS. */
final class TrafficPolicyRules {
  private TrafficPolicyRules() {}

  static void trafficPolicy(DocNode policy, boolean portLevelAllowed, Problems out) {
    if (!policy.isSet()) {
      return;
    }
    if (policy.value().isObject() && policy.value().isEmpty()) {
      out.add(policy.path(), "is empty (expected: at least one setting, or no trafficPolicy)");
    }
    loadBalancer(policy.field("loadBalancer"), out);
    connectionPool(policy.field("connectionPool"), out);
    outlierDetection(policy.field("outlierDetection"), out);
    tls(policy.field("tls"), out);
    if (policy.field("tunnel").isSet() && policy.field("proxyProtocol").isSet()) {
      out.add(policy.path(), "sets both tunnel and proxyProtocol (expected: at most one)");
    }
    Rules.port(policy.field("tunnel").field("targetPort"), out);
    if (portLevelAllowed) {
      Set<Long> ports = new HashSet<>();
      for (DocNode setting : policy.field("portLevelSettings").items()) {
        DocNode number = setting.field("port").field("number");
        if (!number.isSet()) {
          out.missing(number.path(), "the port this setting applies to");
        } else if (number.isNumber() && !ports.add(number.asLong())) {
          out.invalid(number.path(), number.value(), "duplicate port", "each port once");
        }
        Rules.port(number, out);
        loadBalancer(setting.field("loadBalancer"), out);
        connectionPool(setting.field("connectionPool"), out);
        outlierDetection(setting.field("outlierDetection"), out);
        tls(setting.field("tls"), out);
      }
    }
  }

  /** Envoy's largest maglev table is 5,000,011 entries; istiod takes only smaller ones. */
  private static final long MAGLEV_LIMIT = 5_000_011L;

  static void loadBalancer(DocNode lb, Problems out) {
    if (!lb.isSet()) {
      return;
    }
    DocNode hash = lb.field("consistentHash");
    if (hash.isSet()) {
      boolean key =
          hash.field("httpHeaderName").isSet()
              || hash.field("httpCookie").isSet()
              || hash.field("useSourceIp").isSet()
              || hash.field("httpQueryParameterName").isSet();
      if (!key) {
        out.add(
            hash.path(),
            "has no hash key (expected: one of httpHeaderName, httpCookie, useSourceIp,"
                + " httpQueryParameterName)");
      }
      String header = hash.field("httpHeaderName").text();
      if (header != null) {
        Rules.headerName(hash.field("httpHeaderName"), header, out);
      }
      DocNode cookie = hash.field("httpCookie");
      if (cookie.isSet() && "".equals(cookie.field("name").text())) {
        out.invalid(cookie.field("name").path(), "", "a cookie name");
      }
      java.util.Set<String> attributes = new java.util.HashSet<>();
      for (DocNode attribute : cookie.field("attributes").items()) {
        String name = attribute.field("name").text();
        if (name == null || name.isEmpty()) {
          out.missing(attribute.field("name").path(), "a cookie attribute name");
        } else if (!attributes.add(name)) {
          out.invalid(
              attribute.field("name").path(), name, "duplicate cookie attribute", "unique names");
        }
      }
      DocNode maglev = hash.field("maglev");
      DocNode tableSize = maglev.field("tableSize");
      if (maglev.isSet() && (!tableSize.isNumber() || tableSize.asLong() == 0)) {
        out.missing(tableSize.path(), "a maglev table size, a prime such as 65537");
      } else if (tableSize.isNumber() && tableSize.asLong() >= MAGLEV_LIMIT) {
        out.invalid(
            tableSize.path(),
            tableSize.value(),
            "larger than Envoy's maglev tables",
            "a prime below " + MAGLEV_LIMIT);
      } else if (tableSize.isNumber() && !isPrime(tableSize.asLong())) {
        out.invalid(tableSize.path(), tableSize.value(), "a prime number, such as 65537");
      }
      DocNode ringSize = hash.field("minimumRingSize");
      if (ringSize.isNumber()
          && ringSize.asLong() != 0
          && (maglev.isSet() || hash.field("ringHash").isSet())) {
        out.add(
            ringSize.path(),
            "set with "
                + (maglev.isSet() ? "maglev" : "ringHash")
                + " (expected: the deprecated minimumRingSize or a hash algorithm, not both)");
      }
    }
    locality(lb.field("localityLbSetting"), out);
    Rules.atLeastOneMilli(lb.field("warmupDurationSecs"), out);
    DocNode warmup = lb.field("warmup");
    if (warmup.isSet()) {
      if (!warmup.field("duration").isSet()) {
        out.missing(warmup.field("duration").path(), "a warmup duration");
      }
      Rules.atLeastOneMilli(warmup.field("duration"), out);
      Rules.range(warmup.field("minimumPercent"), 0, 100, out);
      DocNode aggression = warmup.field("aggression");
      if (aggression.isNumber() && aggression.asDouble() < 1) {
        out.invalid(aggression.path(), aggression.value(), ">= 1");
      }
    }
  }

  private static boolean isPrime(long n) {
    if (n < 2) {
      return false;
    }
    for (long i = 2; i * i <= n; i++) {
      if (n % i == 0) {
        return false;
      }
    }
    return true;
  }

  static void locality(DocNode locality, Problems out) {
    if (!locality.isSet()) {
      return;
    }
    if (locality.field("distribute").hasContent() && locality.field("failover").hasContent()) {
      out.add(locality.path(), "sets both distribute and failover (expected: at most one)");
    }
    for (DocNode distribute : locality.field("distribute").items()) {
      long total = 0;
      for (Map.Entry<String, DocNode> to : distribute.field("to").entries()) {
        total += to.getValue().asLong();
      }
      if (total != 100) {
        out.invalid(
            distribute.field("to").path(), total, "weights add up to " + total, "a total of 100");
      }
      if (!distribute.field("from").hasContent()) {
        out.missing(
            distribute.field("from").path(), "a source locality such as \"us-west/zone1/*\"");
      }
    }
    for (DocNode failover : locality.field("failover").items()) {
      String from = failover.field("from").text();
      String to = failover.field("to").text();
      if (from == null || from.isEmpty() || to == null || to.isEmpty()) {
        out.add(failover.path(), "needs both from and to (expected: two regions)");
      } else if (from.equals(to)) {
        out.invalid(
            failover.field("to").path(), to, "fails over to itself", "a region other than from");
      }
    }
  }

  static void connectionPool(DocNode pool, Problems out) {
    if (!pool.isSet()) {
      return;
    }
    DocNode tcp = pool.field("tcp");
    Rules.nonNegative(tcp.field("maxConnections"), out);
    Rules.atLeastOneMilli(tcp.field("connectTimeout"), out);
    // istiod: 0s disables the TCP idle timeout; any other value is a duration of at least 1ms.
    String idle = tcp.field("idleTimeout").text();
    if (idle == null || Durations.parse(idle).map(d -> !d.isZero()).orElse(true)) {
      Rules.atLeastOneMilli(tcp.field("idleTimeout"), out);
    }
    Rules.atLeastOneMilli(tcp.field("maxConnectionDuration"), out);
    Rules.atLeastOneMilli(tcp.field("tcpKeepalive").field("time"), out);
    Rules.atLeastOneMilli(tcp.field("tcpKeepalive").field("interval"), out);
    DocNode http = pool.field("http");
    for (String field :
        new String[] {
          "http1MaxPendingRequests",
          "http2MaxRequests",
          "maxRequestsPerConnection",
          "maxRetries",
          "maxConcurrentStreams"
        }) {
      Rules.nonNegative(http.field(field), out);
    }
    Rules.atLeastOneMilli(http.field("idleTimeout"), out);
    if ("UPGRADE".equals(http.field("h2UpgradePolicy").text())
        && http.field("useClientProtocol").value().asBoolean(false)) {
      out.add(
          http.path(),
          "sets useClientProtocol with h2UpgradePolicy UPGRADE (expected: one or the other)");
    }
  }

  private static void outlierDetection(DocNode outlier, Problems out) {
    if (!outlier.isSet()) {
      return;
    }
    for (String field :
        new String[] {
          "consecutiveErrors",
          "consecutive5xxErrors",
          "consecutiveGatewayErrors",
          "consecutiveLocalOriginFailures"
        }) {
      Rules.nonNegative(outlier.field(field), out);
    }
    Rules.atLeastOneMilli(outlier.field("interval"), out);
    Rules.atLeastOneMilli(outlier.field("baseEjectionTime"), out);
    Rules.range(outlier.field("maxEjectionPercent"), 0, 100, out);
    Rules.range(outlier.field("minHealthPercent"), 0, 100, out);
    DocNode local = outlier.field("consecutiveLocalOriginFailures");
    DocNode split = outlier.field("splitExternalLocalOriginErrors");
    boolean splits = split.isSet() && split.value().asBoolean();
    if (local.isNumber() && local.asLong() > 0 && !splits) {
      out.add(
          local.path(),
          "set without splitExternalLocalOriginErrors (expected: splitExternalLocalOriginErrors:"
              + " true, or no local-origin count)");
    }
  }

  private static void tls(DocNode tls, Problems out) {
    if (!tls.isSet()) {
      return;
    }
    String mode = tls.field("mode").text();
    boolean credential = tls.field("credentialName").hasContent();
    if ("MUTUAL".equals(mode) && !credential) {
      for (String field : new String[] {"clientCertificate", "privateKey"}) {
        if (!tls.field(field).hasContent()) {
          out.missing(tls.field(field).path(), "a file path for MUTUAL TLS, or a credentialName");
        }
      }
    }
    if ("ISTIO_MUTUAL".equals(mode)) {
      for (String field :
          new String[] {"clientCertificate", "privateKey", "caCertificates", "credentialName"}) {
        if (tls.field(field).hasContent()) {
          out.add(
              tls.field(field).path(),
              "set with mode ISTIO_MUTUAL (expected: none; the mesh provides the certificates)");
        }
      }
    }
  }
}
