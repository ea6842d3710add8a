package dev.bosun.crd.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** VirtualService rules, as istiod's webhook enforces them. */
final class VirtualServiceValidator implements SpecValidator {
  private static final Set<String> RETRY_ON =
      Set.of(
          "5xx",
          "gateway-error",
          "reset",
          "reset-before-request",
          "connect-failure",
          "retriable-4xx",
          "refused-stream",
          "retriable-status-codes",
          "retriable-headers",
          "envoy-ratelimited",
          "http3-post-connect-failure",
          "cancelled",
          "deadline-exceeded",
          "internal",
          "resource-exhausted",
          "unavailable");

  private static final Set<String> GRPC_CODES =
      Set.of(
          "OK",
          "CANCELLED",
          "UNKNOWN",
          "INVALID_ARGUMENT",
          "DEADLINE_EXCEEDED",
          "NOT_FOUND",
          "ALREADY_EXISTS",
          "PERMISSION_DENIED",
          "RESOURCE_EXHAUSTED",
          "FAILED_PRECONDITION",
          "ABORTED",
          "OUT_OF_RANGE",
          "UNIMPLEMENTED",
          "INTERNAL",
          "UNAVAILABLE",
          "DATA_LOSS",
          "UNAUTHENTICATED");

  private static final Set<String> HTTP_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*");

  private static final List<String> ACTIONS =
      List.of("route", "redirect", "directResponse", "delegate");

  @Override
  public void validate(DocNode spec, Problems out) {
    boolean delegate = !spec.field("hosts").hasContent();
    hosts(spec, delegate, out);
    gateways(spec.field("gateways"), out);
    Rules.exportTo(spec.field("exportTo"), false, out);
    if (!spec.field("http").hasContent()
        && !spec.field("tcp").hasContent()
        && !spec.field("tls").hasContent()) {
      out.add(spec.path(), "has no http, tcp or tls routes (expected: at least one route)");
    }
    if (delegate) {
      for (String field : new String[] {"gateways", "tcp", "tls"}) {
        if (spec.field(field).hasContent()) {
          out.add(
              spec.field(field).path(),
              "set on a delegate VirtualService (one without hosts) (expected: only http routes)");
        }
      }
    }
    for (DocNode http : spec.field("http").items()) {
      httpRoute(http, delegate, out);
    }
    if (appliesToMesh(spec)) {
      for (DocNode http : spec.field("http").items()) {
        for (DocNode match : http.field("match").items()) {
          jwtClaimsOnlyAtGateways(match.field("headers"), out);
          jwtClaimsOnlyAtGateways(match.field("withoutHeaders"), out);
        }
      }
    }
    for (DocNode tcp : spec.field("tcp").items()) {
      for (DocNode match : tcp.field("match").items()) {
        l4Match(match, out);
        match.field("destinationSubnets").strings().forEach(subnet -> Rules.ipOrCidr(subnet, out));
        Rules.ipOrCidr(match.field("sourceSubnet"), out);
      }
      l4Routes(tcp.field("route"), out);
    }
    for (DocNode tls : spec.field("tls").items()) {
      for (DocNode match : tls.field("match").items()) {
        l4Match(match, out);
        match.field("destinationSubnets").strings().forEach(subnet -> Rules.ipOrCidr(subnet, out));
        if (match.field("sniHosts").isSet() && !match.field("sniHosts").hasContent()) {
          out.missing(match.field("sniHosts").path(), "at least one SNI host");
        }
        for (DocNode sni : match.field("sniHosts").strings()) {
          Rules.host(sni, true, out);
          sniWithinHosts(sni, spec.field("hosts"), out);
        }
      }
      l4Routes(tls.field("route"), out);
    }
  }

  /** Whether the VirtualService programs sidecars: no gateways, or {@code mesh} among them. */
  private static boolean appliesToMesh(DocNode spec) {
    List<DocNode> gateways = spec.field("gateways").strings();
    return gateways.isEmpty() || gateways.stream().anyMatch(g -> "mesh".equals(g.text()));
  }

  /**
   * Routing by a JWT claim ({@code @request.auth.claims.<name>} or {@code [<name>]}) needs the
   * gateway's JWT filter; istiod refuses it on a VirtualService that applies to the mesh.
   */
  private static void jwtClaimsOnlyAtGateways(DocNode headers, Problems out) {
    for (Map.Entry<String, DocNode> header : headers.entries()) {
      if (isJwtClaim(header.getKey())) {
        out.invalid(
            header.getValue().path(),
            header.getKey(),
            "JWT claim based routing on a VirtualService that applies to the mesh",
            "claim headers only when bound to gateways, without \"mesh\"");
      }
    }
  }

  /** Istio's routing-claim header names, the prefix matched case-insensitively. */
  static boolean isJwtClaim(String header) {
    String prefix = "@request.auth.claims";
    if (!header.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return false;
    }
    String rest = header.substring(prefix.length());
    return (rest.startsWith(".") && rest.length() > 1)
        || (rest.startsWith("[") && rest.endsWith("]") && rest.length() > 2);
  }

  /**
   * An SNI host must fall within one of the VirtualService's hosts (equal, or under a wildcard
   * host), as istiod requires; an IP address is left to the host check.
   */
  private static void sniWithinHosts(DocNode sni, DocNode hosts, Problems out) {
    String name = sni.text();
    if (name == null || name.isEmpty() || Rules.isIp(name)) {
      return;
    }
    List<String> all = new ArrayList<>();
    for (DocNode host : hosts.strings()) {
      all.add(host.text());
      if (subsetOf(name, host.text())) {
        return;
      }
    }
    out.invalid(
        sni.path(),
        name,
        "not within any of the VirtualService's hosts [" + String.join(", ", all) + "]",
        "one of the hosts, or a name under a wildcard host");
  }

  /** Istio's {@code host.Name.SubsetOf}: {@code name} equals {@code host} or falls under it. */
  static boolean subsetOf(String name, String host) {
    boolean nameWildcard = name.startsWith("*");
    boolean hostWildcard = host.startsWith("*");
    if (nameWildcard) {
      return hostWildcard
          && name.length() >= host.length()
          && name.substring(1).endsWith(host.substring(1));
    }
    if (hostWildcard) {
      return name.endsWith(host.substring(1));
    }
    return name.equals(host);
  }

  private static void hosts(DocNode spec, boolean delegate, Problems out) {
    List<String> gateways = new ArrayList<>();
    spec.field("gateways").strings().forEach(g -> gateways.add(g.text()));
    boolean mesh = gateways.isEmpty() || gateways.contains("mesh");
    List<String> seen = new ArrayList<>();
    for (DocNode host : spec.field("hosts").strings()) {
      String name = host.text();
      if (name.equals("*") && mesh) {
        out.invalid(
            host.path(),
            name,
            "wildcard host \"*\" on the mesh gateway",
            "\"*\" only for VirtualServices bound to named gateways");
      } else {
        Rules.host(host, true, out);
      }
      if (seen.contains(name.toLowerCase(Locale.ROOT))) {
        out.invalid(host.path(), name, "duplicate host", "each host once");
      }
      seen.add(name.toLowerCase(Locale.ROOT));
    }
  }

  /** {@code mesh}, {@code name} or {@code namespace/name}. */
  static void gateways(DocNode gateways, Problems out) {
    for (DocNode gateway : gateways.strings()) {
      String value = gateway.text();
      if (value.equals("mesh")) {
        continue;
      }
      int slash = value.indexOf('/');
      String namespace = slash < 0 ? null : value.substring(0, slash);
      String name = slash < 0 ? value : value.substring(slash + 1);
      boolean valid =
          (namespace == null || Rules.isDnsLabel(namespace))
              && (slash < 0 ? Rules.isDnsSubdomain(name) : Rules.isDnsLabel(name));
      if (!valid) {
        out.invalid(gateway.path(), value, "\"mesh\", a gateway name, or \"<namespace>/<name>\"");
      }
    }
  }

  private static void httpRoute(DocNode http, boolean delegateService, Problems out) {
    List<String> actions = new ArrayList<>();
    for (String action : ACTIONS) {
      if (http.field(action).isSet()) {
        actions.add(action);
      }
    }
    if (actions.isEmpty()) {
      out.add(
          http.path(),
          "has no route, redirect, directResponse or delegate (expected: exactly one of them)");
    } else if (actions.size() > 1) {
      out.add(
          http.path(),
          "sets both "
              + String.join(" and ", actions)
              + " (expected: only one of route, redirect, directResponse, delegate)");
    }
    boolean redirectOrDirect =
        http.field("redirect").isSet() || http.field("directResponse").isSet();
    if (redirectOrDirect) {
      for (String conflicting : new String[] {"rewrite", "fault"}) {
        if (http.field(conflicting).isSet()) {
          out.add(
              http.field(conflicting).path(),
              "set on a route that redirects or responds directly (expected: no "
                  + conflicting
                  + " with redirect or directResponse)");
        }
      }
    }
    if (http.field("delegate").isSet() && delegateService) {
      out.add(
          http.field("delegate").path(),
          "set in a delegate VirtualService (expected: delegates cannot be nested)");
    }
    delegate(http.field("delegate"), out);
    for (DocNode match : http.field("match").items()) {
      httpMatch(match, out);
    }
    httpDestinations(http.field("route"), out);
    redirect(http.field("redirect"), out);
    rewrite(http.field("rewrite"), out);
    directResponse(http.field("directResponse"), out);
    Rules.atLeastOneMilli(http.field("timeout"), out);
    retries(http.field("retries"), out);
    fault(http.field("fault"), out);
    mirrors(http, out);
    cors(http.field("corsPolicy"), out);
    Rules.headers(http.field("headers"), out);
  }

  private static void delegate(DocNode delegate, Problems out) {
    if (!delegate.isSet()) {
      return;
    }
    if (!Rules.isDnsSubdomain(delegate.field("name").text())) {
      out.invalid(
          delegate.field("name").path(),
          delegate.field("name").value(),
          "the name of a VirtualService");
    }
    String namespace = delegate.field("namespace").text();
    if (namespace != null && !Rules.isDnsLabel(namespace)) {
      out.invalid(delegate.field("namespace").path(), namespace, "a namespace name");
    }
  }

  private static void httpMatch(DocNode match, Problems out) {
    Rules.stringMatch(match.field("uri"), true, out);
    for (String field : new String[] {"scheme", "method", "authority"}) {
      Rules.stringMatch(match.field(field), false, out);
    }
    for (String field : new String[] {"headers", "withoutHeaders", "queryParams"}) {
      for (Map.Entry<String, DocNode> entry : match.field(field).entries()) {
        if (entry.getKey().isEmpty()) {
          out.invalid(match.field(field).path(), "", "empty name", "a non-empty name");
        }
        Rules.stringMatch(entry.getValue(), false, out);
      }
    }
    Rules.port(match.field("port"), out);
    Rules.labels(match.field("sourceLabels"), out);
    String namespace = match.field("sourceNamespace").text();
    if (namespace != null && !Rules.isDnsLabel(namespace)) {
      out.invalid(match.field("sourceNamespace").path(), namespace, "a namespace name");
    }
    gateways(match.field("gateways"), out);
  }

  private static void l4Match(DocNode match, Problems out) {
    Rules.port(match.field("port"), out);
    Rules.labels(match.field("sourceLabels"), out);
    gateways(match.field("gateways"), out);
  }

  static void destination(DocNode destination, Problems out) {
    if (!destination.isSet()) {
      return;
    }
    Rules.host(destination.field("host"), false, out);
    String subset = destination.field("subset").text();
    if (subset != null && !Rules.isDnsLabel(subset)) {
      out.invalid(destination.field("subset").path(), subset, "a subset name (a DNS-1123 label)");
    }
    Rules.port(destination.field("port").field("number"), out);
  }

  private static void httpDestinations(DocNode routes, Problems out) {
    weights(routes, out);
    for (DocNode route : routes.items()) {
      destination(route.field("destination"), out);
      Rules.headers(route.field("headers"), out);
    }
  }

  private static void l4Routes(DocNode routes, Problems out) {
    if (!routes.hasContent()) {
      out.missing(routes.path(), "at least one destination");
    }
    weights(routes, out);
    for (DocNode route : routes.items()) {
      destination(route.field("destination"), out);
    }
  }

  /** Weights are relative (Istio normalises them) but may not be negative or all zero. */
  private static void weights(DocNode routes, Problems out) {
    long total = 0;
    for (DocNode route : routes.items()) {
      DocNode weight = route.field("weight");
      if (weight.isNumber() && weight.asLong() < 0) {
        out.invalid(weight.path(), weight.value(), "negative weight", ">= 0");
      } else if (weight.isNumber()) {
        total += weight.asLong();
      }
    }
    if (routes.items().size() > 1 && total == 0) {
      out.add(
          routes.path(),
          "all " + routes.items().size() + " weights are 0 (expected: at least one weight > 0)");
    }
  }

  private static void redirect(DocNode redirect, Problems out) {
    if (!redirect.isSet()) {
      return;
    }
    DocNode code = redirect.field("redirectCode");
    if (code.isNumber() && code.asLong() != 0 && (code.asLong() < 300 || code.asLong() > 399)) {
      out.invalid(code.path(), code.value(), "a 3xx redirect code");
    }
    String scheme = redirect.field("scheme").text();
    if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
      out.invalid(redirect.field("scheme").path(), scheme, "\"http\" or \"https\"");
    }
    Rules.port(redirect.field("port"), out);
    boolean any =
        redirect.field("uri").hasContent()
            || redirect.field("authority").hasContent()
            || redirect.field("scheme").hasContent()
            || redirect.field("port").isSet()
            || redirect.field("derivePort").isSet();
    if (!any) {
      out.add(
          redirect.path(),
          "redirects nowhere (expected: at least one of uri, authority, scheme, port, derivePort)");
    }
  }

  private static void rewrite(DocNode rewrite, Problems out) {
    if (!rewrite.isSet()) {
      return;
    }
    DocNode regexRewrite = rewrite.field("uriRegexRewrite");
    if (rewrite.field("uri").isSet() && regexRewrite.isSet()) {
      out.add(rewrite.path(), "sets both uri and uriRegexRewrite (expected: at most one)");
    }
    if (regexRewrite.isSet()) {
      if (!regexRewrite.field("match").isSet()) {
        out.missing(regexRewrite.field("match").path(), "an RE2 regex");
      }
      Rules.regex(regexRewrite.field("match"), out);
    }
    if (!rewrite.field("uri").isSet()
        && !regexRewrite.isSet()
        && !rewrite.field("authority").isSet()) {
      out.add(
          rewrite.path(),
          "rewrites nothing (expected: at least one of uri, authority, uriRegexRewrite)");
    }
  }

  private static void directResponse(DocNode response, Problems out) {
    DocNode status = response.field("status");
    if (status.isNumber() && (status.asLong() < 200 || status.asLong() > 599)) {
      out.invalid(status.path(), status.value(), "an HTTP status code in 200-599");
    }
    DocNode bytes = response.field("body").field("bytes");
    int size = 0;
    if (bytes.text() != null) {
      try {
        size = java.util.Base64.getDecoder().decode(bytes.text()).length;
      } catch (IllegalArgumentException e) {
        out.invalid(bytes.path(), bytes.text(), "base64-encoded bytes");
      }
    }
    DocNode string = response.field("body").field("string");
    if (string.text() != null) {
      size = string.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
    if (size > MAX_BODY_BYTES) {
      out.add(
          response.field("body").path(),
          "is "
              + size
              + " bytes (expected: at most 1 MiB; proxies take direct responses up to that size)");
    }
  }

  /** istiod's limit on direct-response bodies, the size it lets Envoy send. */
  private static final int MAX_BODY_BYTES = 1 << 20;

  private static void retries(DocNode retries, Problems out) {
    if (!retries.isSet()) {
      return;
    }
    DocNode attempts = retries.field("attempts");
    if (attempts.isNumber() && attempts.asLong() < 0) {
      out.invalid(attempts.path(), attempts.value(), "negative retry attempts", ">= 0");
    }
    Rules.atLeastOneMilli(retries.field("perTryTimeout"), out);
    Rules.atLeastOneMilli(retries.field("backoff"), out);
    String retryOn = retries.field("retryOn").text();
    if (retryOn != null) {
      for (String policy : retryOn.split(",", -1)) {
        String trimmed = policy.trim();
        if (!RETRY_ON.contains(trimmed) && !Rules.isIntegerIn(trimmed, 100, 599)) {
          out.invalid(
              retries.field("retryOn").path(),
              trimmed,
              "unknown retryOn policy",
              "an HTTP status code or one of "
                  + String.join(", ", new java.util.TreeSet<>(RETRY_ON)));
        }
      }
    }
  }

  private static void fault(DocNode fault, Problems out) {
    if (!fault.isSet()) {
      return;
    }
    DocNode delay = fault.field("delay");
    DocNode abort = fault.field("abort");
    if (!delay.isSet() && !abort.isSet()) {
      out.add(fault.path(), "injects nothing (expected: a delay, an abort or both)");
    }
    if (delay.isSet()) {
      if (!delay.field("fixedDelay").isSet() && !delay.field("exponentialDelay").isSet()) {
        out.missing(delay.field("fixedDelay").path(), "a delay such as \"5s\"");
      }
      Rules.atLeastOneMilli(delay.field("fixedDelay"), out);
      Rules.atLeastOneMilli(delay.field("exponentialDelay"), out);
      Rules.range(delay.field("percent"), 0, 100, out);
      Rules.percent(delay.field("percentage"), out);
    }
    if (abort.isSet()) {
      DocNode status = abort.field("httpStatus");
      if (status.isNumber() && (status.asLong() < 200 || status.asLong() > 599)) {
        out.invalid(status.path(), status.value(), "an HTTP status code in 200-599");
      }
      String grpc = abort.field("grpcStatus").text();
      if (grpc != null && !GRPC_CODES.contains(grpc)) {
        out.invalid(
            abort.field("grpcStatus").path(),
            grpc,
            "a gRPC status name such as UNAVAILABLE or DEADLINE_EXCEEDED");
      }
      if (!status.isSet() && grpc == null && !abort.field("http2Error").isSet()) {
        out.missing(status.path(), "an httpStatus or grpcStatus to abort with");
      }
      Rules.percent(abort.field("percentage"), out);
    }
  }

  private static void mirrors(DocNode http, Problems out) {
    DocNode mirror = http.field("mirror");
    DocNode mirrors = http.field("mirrors");
    if (mirror.isSet() && mirrors.isSet()) {
      out.add(http.path(), "sets both mirror and mirrors (expected: at most one)");
    }
    destination(mirror, out);
    Rules.range(http.field("mirrorPercent"), 0, 100, out);
    Rules.percent(http.field("mirrorPercentage"), out);
    for (DocNode each : mirrors.items()) {
      destination(each.field("destination"), out);
      Rules.percent(each.field("percentage"), out);
    }
  }

  private static void cors(DocNode cors, Problems out) {
    if (!cors.isSet()) {
      return;
    }
    for (DocNode origin : cors.field("allowOrigins").items()) {
      Rules.stringMatch(origin, false, out);
    }
    for (DocNode method : cors.field("allowMethods").strings()) {
      if (!HTTP_METHODS.contains(method.text())) {
        out.invalid(
            method.path(), method.text(), "an HTTP method such as GET or POST, in upper case");
      }
    }
    for (String field : new String[] {"allowHeaders", "exposeHeaders"}) {
      for (DocNode header : cors.field(field).strings()) {
        if (!header.text().equals("*")) {
          Rules.headerName(header, header.text(), out);
        }
      }
    }
    Rules.atLeastOneMilli(cors.field("maxAge"), out);
  }
}
