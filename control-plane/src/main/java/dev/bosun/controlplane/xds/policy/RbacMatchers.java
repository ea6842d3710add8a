package dev.bosun.controlplane.xds.policy;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.OrMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * One AuthorizationPolicy value as one Envoy RBAC matcher, with Istio's meaning: its wildcards, its
 * SPIFFE principals and namespace patterns. Values that cannot be matched are refused with a reason
 * rather than approximated; {@link AuthorizationFilters} decides what a refusal does to the rule.
 */
public final class RbacMatchers {
  private static final String SPIFFE = "spiffe://";
  private static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
  private static final String HEADER_KEY = "request.headers[";

  private RbacMatchers() {}

  /** A value that cannot be expressed; the message quotes it and says why. */
  static final class Unsupported extends Exception {
    Unsupported(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The peer's identity: {@code spiffe://} and the principal. The trust domain {@code
   * cluster.local} stands for the mesh's own, as in Istio.
   */
  static Principal peer(String value, String trustDomain) throws Unsupported {
    String[] parts = value.split("/", -1);
    String principal =
        parts.length == 5 && parts[0].equals(DEFAULT_TRUST_DOMAIN) && !trustDomain.isEmpty()
            ? trustDomain + value.substring(DEFAULT_TRUST_DOMAIN.length())
            : value;
    Wildcard wildcard = Wildcard.parse(principal);
    return authenticated(
        switch (wildcard.form()) {
          case ANY -> regex(".+");
          case EXACT -> StringMatcher.newBuilder().setExact(SPIFFE + wildcard.text()).build();
          case PREFIX -> StringMatcher.newBuilder().setPrefix(SPIFFE + wildcard.text()).build();
          case SUFFIX -> regex(quote(SPIFFE) + ".*" + quote(wildcard.text()));
        });
  }

  /** {@code <name>} (in {@code namespace}) or {@code <namespace>/<name>}, in any trust domain. */
  static Principal serviceAccount(String value, String namespace) throws Unsupported {
    int slash = value.indexOf('/');
    String ns = slash < 0 ? namespace : value.substring(0, slash);
    String name = value.substring(slash + 1);
    if (ns.isEmpty() || name.isEmpty() || name.contains("/")) {
      throw new Unsupported(
          "\"" + value + "\": not a service account (expected: <name> or <namespace>/<name>)");
    }
    String id = ".+/ns/" + quote(ns) + "/(.+/)?sa/" + quote(name) + "(/.+)?";
    return authenticated(regex(quote(SPIFFE) + id));
  }

  /**
   * The trust domain of the peer's SPIFFE id, as istiod matches {@code source.trustDomain}: {@code
   * *} any, an exact domain as the id's prefix, one {@code *} at its start or end as a regex.
   */
  static Principal trustDomain(String value) {
    if (value.equals("*")) {
      return authenticated(StringMatcher.newBuilder().setPrefix(SPIFFE).build());
    }
    int star = value.indexOf('*');
    if (star < 0) {
      return authenticated(StringMatcher.newBuilder().setPrefix(SPIFFE + value + "/").build());
    }
    return authenticated(
        regex(
            quote(SPIFFE)
                + quote(value.substring(0, star))
                + "[^/]*"
                + quote(value.substring(star + 1))
                + "/.*"));
  }

  /** The namespace inside the peer's SPIFFE id, as Istio matches it; {@code *} matches anything. */
  static Principal namespace(String value) {
    List<String> literals = new ArrayList<>();
    for (String literal : value.split("\\*", -1)) {
      literals.add(quote(literal));
    }
    return authenticated(regex(".*/ns/" + String.join(".*", literals) + "/.*"));
  }

  static Principal sourceIp(String value) throws Unsupported {
    return Principal.newBuilder().setDirectRemoteIp(cidr(value)).build();
  }

  static Principal remoteIp(String value) throws Unsupported {
    return Principal.newBuilder().setRemoteIp(cidr(value)).build();
  }

  /** The header name in a {@code request.headers[<name>]} condition key, or null. */
  static String headerName(String key) {
    return key.startsWith(HEADER_KEY) && key.endsWith("]")
        ? key.substring(HEADER_KEY.length(), key.length() - 1)
        : null;
  }

  static Principal requestHeader(String name, String value) throws Unsupported {
    return Principal.newBuilder().setHeader(header(name, value, false)).build();
  }

  /** Hosts match the authority without regard to case, as in Istio. */
  static Permission host(String value) throws Unsupported {
    return Permission.newBuilder().setHeader(header(":authority", value, true)).build();
  }

  static Permission method(String value) throws Unsupported {
    return Permission.newBuilder().setHeader(header(":method", value, false)).build();
  }

  static Permission urlPath(String value) throws Unsupported {
    if (value.contains("{*}") || value.contains("{**}")) {
      throw new Unsupported("\"" + value + "\": path templates ({*}, {**}) are not supported");
    }
    return Permission.newBuilder()
        .setUrlPath(PathMatcher.newBuilder().setPath(string(value, false)))
        .build();
  }

  static Permission destinationPort(String value) throws Unsupported {
    try {
      int port = Integer.parseInt(value);
      if (port >= 0 && port <= 65535) {
        return Permission.newBuilder().setDestinationPort(port).build();
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new Unsupported("\"" + value + "\": not a port (expected: 0-65535)");
  }

  static Permission destinationIp(String value) throws Unsupported {
    return Permission.newBuilder().setDestinationIp(cidr(value)).build();
  }

  /**
   * A verified JWT's principal, {@code <iss>/<sub>}, split at the last {@code /} (issuers are often
   * URLs). {@code *} alone means any token; a leading or trailing {@code *} applies to the part it
   * touches, as in Istio: {@code *}{@code /sub} any issuer, {@code iss/*} any subject.
   */
  static Principal requestPrincipal(String value) throws Unsupported {
    int slash = value.lastIndexOf('/');
    boolean split = slash >= 0;
    String issuer = split ? value.substring(0, slash) : value;
    String subject = split ? value.substring(slash + 1) : "";
    StringMatcher any = regex(".+");
    StringMatcher iss;
    StringMatcher sub;
    if (value.equals("*")) {
      iss = any;
      sub = any;
    } else if (value.startsWith("*")) {
      if (split) {
        iss = issuer.equals("*") ? any : suffix(issuer.substring(1));
        sub = exact(subject);
      } else {
        iss = any;
        sub = suffix(value.substring(1));
      }
    } else if (value.endsWith("*")) {
      if (split) {
        iss = exact(issuer);
        sub = subject.equals("*") ? any : prefix(subject.substring(0, subject.length() - 1));
      } else {
        iss = prefix(value.substring(0, value.length() - 1));
        sub = any;
      }
    } else {
      iss = exact(issuer);
      sub = exact(subject);
    }
    return Principal.newBuilder()
        .setAndIds(
            Principal.Set.newBuilder()
                .addIds(claimString("iss", iss))
                .addIds(claimString("sub", sub)))
        .build();
  }

  /**
   * A claim of the verified JWT at {@code path} (nested claims name each level), equal to {@code
   * value} or, when the claim is a list, holding it; wildcards as everywhere else.
   */
  static Principal jwtClaim(List<String> path, String value) throws Unsupported {
    ValueMatcher one = ValueMatcher.newBuilder().setStringMatch(string(value, false)).build();
    MetadataMatcher.Builder matcher = MetadataMatcher.newBuilder().setFilter(JwtFilters.FILTER);
    matcher.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(JwtFilters.PAYLOAD));
    for (String key : path) {
      matcher.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(key));
    }
    matcher.setValue(
        ValueMatcher.newBuilder()
            .setOrMatch(
                OrMatcher.newBuilder()
                    .addValueMatchers(
                        ValueMatcher.newBuilder()
                            .setListMatch(ListMatcher.newBuilder().setOneOf(one)))
                    .addValueMatchers(one)));
    return Principal.newBuilder().setMetadata(matcher).build();
  }

  /**
   * The claim names of a {@code request.auth.claims[...]} key: {@code [groups]}, or nested {@code
   * [a][b]}; a single bracketed name may itself hold brackets. Null when the key has neither form.
   */
  static List<String> claimPath(String key) {
    String brackets = key.substring("request.auth.claims".length());
    List<String> names = new ArrayList<>();
    int at = 0;
    while (at < brackets.length()) {
      int end = brackets.indexOf(']', at);
      int nested = brackets.indexOf('[', at + 1);
      if (brackets.charAt(at) != '[' || end < 0 || (nested >= 0 && nested < end)) {
        names = null;
        break;
      }
      names.add(brackets.substring(at + 1, end));
      at = end + 1;
    }
    if (names != null && !names.isEmpty()) {
      return names;
    }
    if (brackets.length() >= 2 && brackets.startsWith("[") && brackets.endsWith("]")) {
      return List.of(brackets.substring(1, brackets.length() - 1));
    }
    return null;
  }

  private static Principal claimString(String claim, StringMatcher value) {
    return Principal.newBuilder()
        .setMetadata(
            MetadataMatcher.newBuilder()
                .setFilter(JwtFilters.FILTER)
                .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(JwtFilters.PAYLOAD))
                .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(claim))
                .setValue(ValueMatcher.newBuilder().setStringMatch(value)))
        .build();
  }

  private static StringMatcher exact(String value) {
    return StringMatcher.newBuilder().setExact(value).build();
  }

  private static StringMatcher prefix(String value) {
    return StringMatcher.newBuilder().setPrefix(value).build();
  }

  private static StringMatcher suffix(String value) {
    return StringMatcher.newBuilder().setSuffix(value).build();
  }

  static Permission serverName(String value) throws Unsupported {
    return Permission.newBuilder().setRequestedServerName(string(value, false)).build();
  }

  private static Principal authenticated(StringMatcher principalName) {
    return Principal.newBuilder()
        .setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(principalName))
        .build();
  }

  /** {@code *} alone means "present", as in Istio. */
  private static HeaderMatcher header(String name, String value, boolean ignoreCase)
      throws Unsupported {
    HeaderMatcher.Builder header = HeaderMatcher.newBuilder().setName(name);
    return value.equals("*")
        ? header.setPresentMatch(true).build()
        : header.setStringMatch(string(value, ignoreCase)).build();
  }

  /** Exact, {@code abc*} prefix, {@code *abc} suffix, or {@code *}: any non-empty value. */
  private static StringMatcher string(String value, boolean ignoreCase) throws Unsupported {
    Wildcard wildcard = Wildcard.parse(value);
    StringMatcher.Builder matcher = StringMatcher.newBuilder().setIgnoreCase(ignoreCase);
    return switch (wildcard.form()) {
      case ANY -> regex(".+");
      case EXACT -> matcher.setExact(wildcard.text()).build();
      case PREFIX -> matcher.setPrefix(wildcard.text()).build();
      case SUFFIX -> matcher.setSuffix(wildcard.text()).build();
    };
  }

  private static StringMatcher regex(String regex) {
    return StringMatcher.newBuilder()
        .setSafeRegex(RegexMatcher.newBuilder().setRegex(regex))
        .build();
  }

  /** A literal for RE2: every metacharacter escaped. */
  private static String quote(String literal) {
    StringBuilder quoted = new StringBuilder();
    for (char c : literal.toCharArray()) {
      if ("\\.+*?()|[]{}^$".indexOf(c) >= 0) {
        quoted.append('\\');
      }
      quoted.append(c);
    }
    return quoted.toString();
  }

  /** An IP address or CIDR block, literals only: nothing is ever looked up by name. */
  private static CidrRange cidr(String value) throws Unsupported {
    int slash = value.indexOf('/');
    String address = slash < 0 ? value : value.substring(0, slash);
    boolean v6 = address.indexOf(':') >= 0;
    boolean literal =
        !address.isEmpty()
            && address.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')
            && (v6 || address.chars().filter(c -> c == '.').count() == 3);
    try {
      if (literal) {
        InetAddress.getByName(address);
        int bits = slash < 0 ? (v6 ? 128 : 32) : Integer.parseInt(value.substring(slash + 1));
        if (bits >= 0 && bits <= (v6 ? 128 : 32)) {
          return CidrRange.newBuilder()
              .setAddressPrefix(address)
              .setPrefixLen(UInt32Value.of(bits))
              .build();
        }
      }
    } catch (UnknownHostException | NumberFormatException e) {
      // reported below
    }
    throw new Unsupported(
        "\"" + value + "\": not an IP address or CIDR block (such as 10.0.0.0/16)");
  }

  /** Istio's wildcard: {@code *} alone, or at the start or the end of a value. */
  private record Wildcard(Form form, String text) {
    enum Form {
      ANY,
      EXACT,
      PREFIX,
      SUFFIX
    }

    static Wildcard parse(String value) throws Unsupported {
      if (value.equals("*")) {
        return new Wildcard(Form.ANY, "");
      }
      boolean leading = value.startsWith("*");
      boolean trailing = value.endsWith("*");
      String text = value.substring(leading ? 1 : 0, value.length() - (trailing ? 1 : 0));
      if ((leading && trailing) || text.contains("*")) {
        throw new Unsupported(
            "\"" + value + "\": '*' only works alone, as a prefix (*abc) or as a suffix (abc*)");
      }
      return new Wildcard(leading ? Form.SUFFIX : trailing ? Form.PREFIX : Form.EXACT, text);
    }
  }
}
