package dev.bosun.crd.validation;

import com.fasterxml.jackson.databind.node.TextNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks shared by several kinds: hosts, label selectors, ports, regexes, durations, header
 * operations and exportTo. Each reports through {@link Problems} and never stops at the first
 * error.
 */
final class Rules {
  static final int MAX_REGEX_LENGTH = 1024;

  private static final java.util.regex.Pattern DNS_LABEL =
      java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final java.util.regex.Pattern LABEL_NAME =
      java.util.regex.Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final java.util.regex.Pattern HEADER_NAME =
      java.util.regex.Pattern.compile("[-_A-Za-z0-9!#$%&'*+.^`|~]+");
  private static final java.util.regex.Pattern PORT_NAME =
      java.util.regex.Pattern.compile("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");

  private Rules() {}

  // ---- names -------------------------------------------------------------------------------

  static boolean isDnsLabel(String value) {
    return value != null && value.length() <= 63 && DNS_LABEL.matcher(value).matches();
  }

  static boolean isDnsSubdomain(String value) {
    if (value == null || value.isEmpty() || value.length() > 253) {
      return false;
    }
    for (String label : value.split("\\.", -1)) {
      if (!isDnsLabel(label)) {
        return false;
      }
    }
    return true;
  }

  /**
   * A host as Istio accepts it: a DNS name of lower- or upper-case labels, optionally starting with
   * a {@code *.} wildcard, or {@code *} alone when {@code allowStar}.
   */
  static void host(DocNode node, boolean allowStar, Problems out) {
    String host = node.text();
    if (host == null) {
      return;
    }
    if (host.equals("*")) {
      if (!allowStar) {
        out.invalid(node.path(), host, "wildcard-only host", "a host name, not \"*\"");
      }
      return;
    }
    String name = host.startsWith("*.") ? host.substring(2) : host;
    if (host.length() > 255 || !isDnsSubdomain(name.toLowerCase(Locale.ROOT))) {
      out.invalid(
          node.path(),
          host,
          "a DNS name (lower-case labels separated by dots, optionally starting with \"*.\")");
    }
  }

  /**
   * {@code <namespace>/<host>} as Gateway servers and Sidecar egress listeners write hosts: the
   * namespace is one of {@code specials} or a namespace name, the host as {@link #host} with
   * wildcards. Without a slash the value is a plain host, unless {@code namespaceRequired}.
   */
  static void namespacedHost(
      DocNode node, List<String> specials, boolean namespaceRequired, Problems out) {
    String value = node.text();
    if (value == null) {
      return;
    }
    String expected =
        "\"<namespace>/<host>\" with namespace "
            + String.join(", ", specials.stream().map(s -> "\"" + s + "\"").toList())
            + " or a namespace name";
    int slash = value.indexOf('/');
    if (slash < 0) {
      if (namespaceRequired) {
        out.invalid(node.path(), value, expected);
      } else {
        host(node, true, out);
      }
      return;
    }
    String namespace = value.substring(0, slash);
    if (!specials.contains(namespace) && !isDnsLabel(namespace)) {
      out.invalid(node.path(), value, expected);
      return;
    }
    host(DocNode.of(new TextNode(value.substring(slash + 1)), node.path()), true, out);
  }

  /** Whether {@code value} is a decimal integer in {@code [min, max]}. */
  static boolean isIntegerIn(String value, int min, int max) {
    try {
      int number = Integer.parseInt(value);
      return number >= min && number <= max;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** A Kubernetes label key or selector key: {@code [dns-subdomain/]name}. */
  static boolean isLabelKey(String key) {
    int slash = key.indexOf('/');
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (slash >= 0 && !isDnsSubdomain(key.substring(0, slash))) {
      return false;
    }
    return name.length() <= 63 && LABEL_NAME.matcher(name).matches();
  }

  static boolean isLabelValue(String value) {
    return value.isEmpty() || (value.length() <= 63 && LABEL_NAME.matcher(value).matches());
  }

  /** A map of labels or label selectors. */
  static void labels(DocNode labels, Problems out) {
    for (Map.Entry<String, DocNode> label : labels.entries()) {
      if (!isLabelKey(label.getKey())) {
        out.invalid(
            labels.path().key(label.getKey()),
            label.getKey(),
            "invalid label key",
            "an optional DNS subdomain and '/', then at most 63 characters of [A-Za-z0-9-_.],"
                + " starting and ending with an alphanumeric");
      }
      String value = label.getValue().text();
      if (value != null && !isLabelValue(value)) {
        out.invalid(
            label.getValue().path(),
            value,
            "invalid label value",
            "at most 63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric,"
                + " or empty");
      }
    }
  }

  static void portName(DocNode node, Problems out) {
    String name = node.text();
    if (name != null && (name.length() > 63 || !PORT_NAME.matcher(name).matches())) {
      out.invalid(node.path(), name, "a port name: alphanumerics and '-', at most 63 characters");
    }
  }

  // ---- numbers and durations ---------------------------------------------------------------

  static void port(DocNode node, Problems out) {
    if (node.isNumber() && (node.asLong() < 1 || node.asLong() > 65535)) {
      out.invalid(node.path(), node.value(), "a port number in 1-65535");
    }
  }

  static void nonNegative(DocNode node, Problems out) {
    if (node.isNumber() && node.asDouble() < 0) {
      out.invalid(node.path(), node.value(), ">= 0");
    }
  }

  static void range(DocNode node, double min, double max, Problems out) {
    if (node.isNumber() && (node.asDouble() < min || node.asDouble() > max)) {
      out.invalid(node.path(), node.value(), "between " + fmt(min) + " and " + fmt(max));
    }
  }

  /** A {@code Percent} message: {@code {value: 0..100}}. */
  static void percent(DocNode percent, Problems out) {
    range(percent.field("value"), 0, 100, out);
  }

  private static String fmt(double value) {
    return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
  }

  /** A duration Istio requires to be at least 1ms and whole milliseconds. */
  static void atLeastOneMilli(DocNode node, Problems out) {
    String text = node.text();
    if (text == null) {
      return;
    }
    Duration duration = Durations.parse(text).orElse(null);
    if (duration == null || duration.isNegative()) {
      return; // malformed or negative: reported by the schema check
    }
    if (duration.compareTo(Duration.ofMillis(1)) < 0) {
      out.invalid(node.path(), text, "duration too short", "a duration >= 1ms");
    } else if (duration.getNano() % 1_000_000 != 0) {
      out.invalid(node.path(), text, "sub-millisecond precision", "whole milliseconds");
    }
  }

  // ---- regexes and string matches ----------------------------------------------------------

  /** A regex Envoy will compile: RE2 syntax, at most 1024 characters. */
  static void regex(DocNode node, Problems out) {
    String regex = node.text();
    if (regex == null) {
      return;
    }
    if (regex.isEmpty()) {
      out.invalid(node.path(), regex, "empty regex", "a non-empty RE2 regex");
      return;
    }
    if (regex.length() > MAX_REGEX_LENGTH) {
      out.invalid(
          node.path(),
          regex,
          "regex is " + regex.length() + " characters long",
          "at most " + MAX_REGEX_LENGTH + " characters");
      return;
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      out.invalid(node.path(), regex, "not a valid RE2 regex: " + e.getDescription(), "RE2 syntax");
    }
  }

  /** A {@code StringMatch}: regexes compile; only {@code uri} may use an empty prefix. */
  static void stringMatch(DocNode match, boolean emptyPrefixAllowed, Problems out) {
    regex(match.field("regex"), out);
    DocNode prefix = match.field("prefix");
    if (!emptyPrefixAllowed && "".equals(prefix.text())) {
      out.invalid(prefix.path(), "", "empty prefix", "a non-empty prefix");
    }
  }

  // ---- headers -----------------------------------------------------------------------------

  static boolean isHeaderName(String name) {
    return HEADER_NAME.matcher(name).matches();
  }

  static void headerName(DocNode node, String name, Problems out) {
    if (name.isEmpty() || !isHeaderName(name)) {
      out.invalid(node.path(), name, "an HTTP header name");
    }
  }

  /**
   * {@code headers.request} / {@code headers.response} of a route or destination, with Istio's
   * rules: requests may set or add {@code Host} (and {@code :authority}), which rewrites the
   * authority; removing it, touching it on responses, or any other {@code :}-pseudo-header is
   * refused.
   */
  static void headers(DocNode headers, Problems out) {
    DocNode request = headers.field("request");
    DocNode response = headers.field("response");
    for (String op : new String[] {"set", "add"}) {
      for (Map.Entry<String, DocNode> entry : request.field(op).entries()) {
        headerOperation(entry.getValue(), entry.getKey(), true, out);
        headerValue(entry.getValue(), out);
      }
      for (Map.Entry<String, DocNode> entry : response.field(op).entries()) {
        headerOperation(entry.getValue(), entry.getKey(), false, out);
        headerValue(entry.getValue(), out);
      }
    }
    for (DocNode name : request.field("remove").strings()) {
      headerOperation(name, name.text(), false, out);
    }
    for (DocNode name : response.field("remove").strings()) {
      headerOperation(name, name.text(), false, out);
    }
  }

  private static void headerOperation(
      DocNode node, String name, boolean authorityOk, Problems out) {
    String lower = name.toLowerCase(Locale.ROOT);
    boolean authority = lower.equals("host") || lower.equals(":authority");
    if (authority && authorityOk) {
      return;
    }
    if (authority) {
      out.invalid(
          node.path(),
          name,
          "the Host header cannot be removed or set on responses",
          "another header; rewrite the authority with headers.request.set or rewrite.authority");
    } else if (name.startsWith(":")) {
      out.invalid(node.path(), name, "pseudo-header", "a header name without a ':' prefix");
    } else if (name.isEmpty() || !isHeaderName(name)) {
      out.invalid(node.path(), name, "an HTTP header name");
    }
  }

  /**
   * A header value Envoy takes: no control characters but tab, and every {@code %} either doubled
   * ({@code %%}) or part of a complete {@code %COMMAND%} or {@code %COMMAND(args)%}, whose args are
   * a plain string or an array of JSON strings. Envoy refuses the whole route configuration
   * otherwise; istiod checks the same.
   */
  static void headerValue(DocNode node, Problems out) {
    String value = node.text();
    if (value == null || value.isEmpty()) {
      return;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        out.invalid(
            node.path(),
            value,
            String.format("control character U+%04X", (int) c),
            "a header value without control characters (a tab aside)");
        return;
      }
    }
    String problem = substitutionProblem(value);
    if (problem != null) {
      out.invalid(node.path(), value, problem, "literal text, %% for a %, and %COMMAND% forms");
    }
  }

  /** What is wrong with the {@code %} forms of a header value, or null. */
  private static String substitutionProblem(String value) {
    int i = 0;
    int n = value.length();
    while (i < n) {
      if (value.charAt(i) != '%') {
        i++;
        continue;
      }
      if (i + 1 == n) {
        return "un-escaped % at the end";
      }
      if (value.charAt(i + 1) == '%') {
        i += 2;
        continue;
      }
      int start = i;
      i++;
      while (i < n && value.charAt(i) != '%' && value.charAt(i) != '(') {
        i++;
      }
      if (i < n && value.charAt(i) == '(') {
        i = skipArguments(value, i + 1);
        if (i < 0) {
          return "un-terminated arguments in " + value.substring(start);
        }
        while (i < n && isSpace(value.charAt(i))) {
          i++;
        }
      }
      if (i >= n) {
        return "un-terminated variable expression " + value.substring(start);
      }
      if (value.charAt(i) != '%') {
        return "expected % after the arguments of " + value.substring(start, i);
      }
      i++;
    }
    return null;
  }

  /**
   * Skips the arguments of a command after its {@code (}: an array of JSON strings, or anything up
   * to {@code )}. Returns the index after the closing {@code )}, or -1.
   */
  private static int skipArguments(String value, int from) {
    int i = from;
    int n = value.length();
    while (i < n && isSpace(value.charAt(i))) {
      i++;
    }
    if (i < n && value.charAt(i) == '[') {
      i++;
      while (true) {
        while (i < n && isSpace(value.charAt(i))) {
          i++;
        }
        if (i >= n || value.charAt(i) != '"') {
          return -1;
        }
        i++;
        while (i < n && value.charAt(i) != '"') {
          i += value.charAt(i) == '\\' ? 2 : 1;
        }
        if (i >= n) {
          return -1;
        }
        i++;
        while (i < n && isSpace(value.charAt(i))) {
          i++;
        }
        if (i < n && value.charAt(i) == ',') {
          i++;
          continue;
        }
        if (i < n && value.charAt(i) == ']') {
          i++;
          break;
        }
        return -1;
      }
      while (i < n && isSpace(value.charAt(i))) {
        i++;
      }
      return i < n && value.charAt(i) == ')' ? i + 1 : -1;
    }
    while (i < n && value.charAt(i) != ')') {
      i += value.charAt(i) == '\\' ? 2 : 1;
    }
    return i < n ? i + 1 : -1;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
  }

  // ---- addresses ---------------------------------------------------------------------------

  static boolean isIp(String value) {
    if (value.isEmpty()
        || !(value.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':'))) {
      return false;
    }
    if (value.indexOf(':') < 0 && value.chars().filter(c -> c == '.').count() != 3) {
      return false;
    }
    try {
      InetAddress.getByName(value); // literal only: the character check above rules out names
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  static boolean isCidr(String value) {
    int slash = value.indexOf('/');
    if (slash < 0) {
      return false;
    }
    String ip = value.substring(0, slash);
    if (!isIp(ip)) {
      return false;
    }
    try {
      int bits = Integer.parseInt(value.substring(slash + 1));
      return bits >= 0 && bits <= (ip.contains(":") ? 128 : 32);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static void ipOrCidr(DocNode node, Problems out) {
    String value = node.text();
    if (value != null && !isIp(value) && !isCidr(value)) {
      out.invalid(node.path(), value, "an IP address or CIDR block such as 10.0.0.0/16");
    }
  }

  // ---- visibility --------------------------------------------------------------------------

  /** {@code exportTo}: ".", "*", or namespaces; "~" only where {@code noneAllowed}. */
  static void exportTo(DocNode exportTo, boolean noneAllowed, Problems out) {
    Set<String> seen = new HashSet<>();
    boolean publicSeen = false;
    boolean otherSeen = false;
    for (DocNode entry : exportTo.strings()) {
      String value = entry.text();
      if (!seen.add(value)) {
        out.invalid(entry.path(), value, "duplicate exportTo entry", "each entry once");
        continue;
      }
      if (value.equals("*")) {
        publicSeen = true;
      } else {
        otherSeen = true;
      }
      if (value.equals("~") && !noneAllowed) {
        out.invalid(
            entry.path(),
            value,
            "\".\", \"*\" or a namespace name (\"~\" is only for ServiceEntry)");
      } else if (!value.equals(".")
          && !value.equals("*")
          && !value.equals("~")
          && !isDnsLabel(value)) {
        out.invalid(
            entry.path(), value, "\".\", \"*\", \"~\" or a namespace name (a DNS-1123 label)");
      }
    }
    if (publicSeen && otherSeen) {
      out.add(
          exportTo.path(),
          "mixes \"*\" with other entries (expected: either \"*\" alone or specific namespaces)");
    }
    if (seen.contains("~") && seen.size() > 1) {
      out.add(exportTo.path(), "mixes \"~\" with other entries (expected: \"~\" alone)");
    }
  }

  /** {@code selector}/{@code targetRef}/{@code targetRefs}: at most one. */
  static void selectorOrTargetRefs(DocNode spec, String selectorField, Problems out) {
    int set = 0;
    for (String field : new String[] {selectorField, "targetRef", "targetRefs"}) {
      if (spec.field(field).isSet()) {
        set++;
      }
    }
    if (set > 1) {
      out.add(
          spec.path(),
          "sets more than one of "
              + selectorField
              + ", targetRef, targetRefs (expected: at most one)");
    }
    labels(spec.field(selectorField).field("matchLabels"), out);
  }
}
