package dev.bosun.controlplane.xds.policy;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.xds.policy.RbacMatchers.Unsupported;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.fabric8.istio.api.api.security.v1beta1.Condition;
import io.fabric8.istio.api.api.security.v1beta1.Operation;
import io.fabric8.istio.api.api.security.v1beta1.Rule;
import io.fabric8.istio.api.api.security.v1beta1.RuleFrom;
import io.fabric8.istio.api.api.security.v1beta1.RuleTo;
import io.fabric8.istio.api.api.security.v1beta1.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The rules of one AuthorizationPolicy as Envoy RBAC policies, one per rule, for one target and one
 * effect (allowing, auditing or denying). What the target cannot match is reported and resolved
 * toward denying: an allowing (or auditing) rule that needs it is left out, a denying rule drops
 * the condition.
 */
public final class RbacPolicyBuilder {
  /** What enforces the RBAC, and so which attributes it can see. */
  enum Target {
    /** Envoy's HTTP RBAC filter. */
    HTTP("requests"),
    /**
     * Envoy's network RBAC filter, which sees the connection only: peer identity, addresses, ports,
     * SNI. Nothing of an HTTP request (host, method, path, headers, token).
     */
    TCP("connections"),
    /** A proxyless gRPC server: the part of RBAC gRFC A41 describes. */
    PROXYLESS("requests");

    private final String matched;

    Target(String matched) {
      this.matched = matched;
    }
  }

  /** What a rule's match does, and what leaving a rule out does to it. */
  enum Effect {
    ALLOW("allows less"),
    /** Logged (Envoy's RBAC LOG action): the request goes on either way. */
    AUDIT("audits less"),
    DENY(null),
    /** Sent to the policy's ext_authz provider for a decision: widening sends it more. */
    CUSTOM(null);

    private final String less;

    Effect(String less) {
      this.less = less;
    }

    /** Whether a rule that cannot be kept is left out (else its condition is dropped). */
    boolean narrows() {
      return less != null;
    }
  }

  /** What Istio generates for an ALLOW policy without rules: a policy nothing matches. */
  static final Policy MATCH_NOTHING =
      Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setNotRule(Permission.newBuilder().setAny(true)))
          .addPrincipals(Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)))
          .build();

  static final Policy MATCH_EVERYTHING =
      Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setAny(true))
          .addPrincipals(Principal.newBuilder().setAny(true))
          .build();

  private static final EnvoyValidator VALIDATOR = EnvoyValidator.shared();

  private static final String HTTP_ONLY = "an HTTP request attribute, which a TCP chain cannot see";

  private static final String PROXYLESS_JWT =
      "a JWT attribute, which gRPC servers cannot verify (grpc-xds has no JWT filter)";

  private final ConfigEntry entry;
  private final Effect effect;
  private final Target target;
  private final String trustDomain;
  private final Consumer<String> warnings;

  /**
   * @param entry the policy, named in every warning
   * @param effect what a match does
   * @param target what enforces the policies
   * @param trustDomain the mesh's trust domain; a principal in {@code cluster.local} means it
   * @param warnings one line per rule or condition left out or widened
   */
  RbacPolicyBuilder(
      ConfigEntry entry,
      Effect effect,
      Target target,
      String trustDomain,
      Consumer<String> warnings) {
    this.entry = entry;
    this.effect = effect;
    this.target = target;
    this.trustDomain = trustDomain;
    this.warnings = warnings;
  }

  /**
   * The rule at {@code index} as an RBAC policy (its {@code from}s OR, its {@code to}s OR, and all
   * AND), or empty when an allowing rule cannot be kept; {@code key} names it in warnings.
   */
  Optional<Policy> policy(Rule rule, int index, String key) {
    String path = "spec.rules[" + index + "]";
    if (rule == null) {
      warn(path + ": empty rule skipped");
      return Optional.empty();
    }
    try {
      Conjunction<Permission> whenPermissions = new Conjunction<>(PERMISSION, this);
      Conjunction<Principal> whenPrincipals = new Conjunction<>(PRINCIPAL, this);
      List<Condition> when = list(rule.getWhen());
      for (int i = 0; i < when.size(); i++) {
        condition(when.get(i), path + ".when[" + i + "]", whenPermissions, whenPrincipals);
      }
      Policy.Builder policy = Policy.newBuilder();
      List<RuleTo> to = list(rule.getTo());
      for (int i = 0; i < Math.max(1, to.size()); i++) {
        Operation operation = i < to.size() && to.get(i) != null ? to.get(i).getOperation() : null;
        String at = path + ".to[" + i + "].operation";
        policy.addPermissions(permission(operation, at, whenPermissions));
      }
      List<RuleFrom> from = list(rule.getFrom());
      for (int i = 0; i < Math.max(1, from.size()); i++) {
        Source source = i < from.size() && from.get(i) != null ? from.get(i).getSource() : null;
        String at = path + ".from[" + i + "].source";
        policy.addPrincipals(principal(source, at, whenPrincipals));
      }
      return checked(policy.build(), path);
    } catch (Unsupported e) {
      warn(e.getMessage() + "; " + effect + " rule " + key + " left out, so it " + effect.less);
      return Optional.empty();
    }
  }

  /** Envoy's constraints, checked per policy so that one bad rule costs only itself. */
  private Optional<Policy> checked(Policy policy, String path) {
    Optional<String> problem = VALIDATOR.check(policy);
    if (problem.isEmpty()) {
      return Optional.of(policy);
    }
    String invalid = path + ": generated RBAC policy is invalid (" + problem.get() + "); ";
    if (effect.narrows()) {
      warn(invalid + effect + " rule left out");
      return Optional.empty();
    }
    warn(invalid + "the " + effect + " rule matches all " + target.matched + " instead");
    return Optional.of(MATCH_EVERYTHING);
  }

  private Permission permission(Operation op, String path, Conjunction<Permission> when)
      throws Unsupported {
    Conjunction<Permission> and = new Conjunction<>(PERMISSION, this);
    if (op != null) {
      requestField(and, path + ".hosts", op.getHosts(), op.getNotHosts(), RbacMatchers::host);
      requestField(
          and, path + ".methods", op.getMethods(), op.getNotMethods(), RbacMatchers::method);
      requestField(and, path + ".paths", op.getPaths(), op.getNotPaths(), RbacMatchers::urlPath);
      and.add(path + ".ports", op.getPorts(), op.getNotPorts(), RbacMatchers::destinationPort);
    }
    and.addAll(when);
    return and.build();
  }

  private Principal principal(Source src, String path, Conjunction<Principal> when)
      throws Unsupported {
    Conjunction<Principal> and = new Conjunction<>(PRINCIPAL, this);
    if (src != null) {
      and.add(path + ".principals", src.getPrincipals(), src.getNotPrincipals(), this::peer);
      jwtField(
          and,
          path + ".requestPrincipals",
          src.getRequestPrincipals(),
          src.getNotRequestPrincipals(),
          RbacMatchers::requestPrincipal);
      and.add(
          path + ".trustDomains",
          strings(src.getAdditionalProperties(), "trustDomains"),
          strings(src.getAdditionalProperties(), "notTrustDomains"),
          RbacMatchers::trustDomain);
      and.add(
          path + ".serviceAccounts",
          src.getServiceAccounts(),
          src.getNotServiceAccounts(),
          this::serviceAccount);
      and.add(
          path + ".namespaces",
          src.getNamespaces(),
          src.getNotNamespaces(),
          RbacMatchers::namespace);
      and.add(
          path + ".remoteIpBlocks",
          src.getRemoteIpBlocks(),
          src.getNotRemoteIpBlocks(),
          RbacMatchers::remoteIp);
      and.add(path + ".ipBlocks", src.getIpBlocks(), src.getNotIpBlocks(), RbacMatchers::sourceIp);
    }
    and.addAll(when);
    return and.build();
  }

  /** A {@code when} condition: about the caller it joins principals, else permissions. */
  private void condition(
      Condition condition,
      String path,
      Conjunction<Permission> permissions,
      Conjunction<Principal> principals)
      throws Unsupported {
    if (condition == null) {
      unsupported(path, "empty condition");
      return;
    }
    String key = condition.getKey() == null ? "" : condition.getKey();
    if (target == Target.TCP && key.startsWith("request.")) {
      unsupported(path + ".key", "\"" + key + "\": " + HTTP_ONLY);
      return;
    }
    Mapper<Principal> token = tokenMapper(key);
    if (token != null) {
      jwtField(
          principals, path + ".values", condition.getValues(), condition.getNotValues(), token);
      return;
    }
    String header = RbacMatchers.headerName(key);
    Mapper<Principal> caller =
        switch (key) {
          case "source.ip" -> RbacMatchers::sourceIp;
          case "remote.ip" -> RbacMatchers::remoteIp;
          case "source.namespace" -> RbacMatchers::namespace;
          case "source.principal" -> this::peer;
          case "source.serviceAccount" -> this::serviceAccount;
          case "source.trustDomain" -> RbacMatchers::trustDomain;
          default ->
              header != null && headerProblem(header) == null
                  ? v -> RbacMatchers.requestHeader(header, v)
                  : null;
        };
    Mapper<Permission> request =
        switch (key) {
          case "destination.ip" -> RbacMatchers::destinationIp;
          case "destination.port" -> RbacMatchers::destinationPort;
          case "connection.sni" -> target == Target.PROXYLESS ? null : RbacMatchers::serverName;
          default -> null;
        };
    if (caller != null) {
      principals.add(path + ".values", condition.getValues(), condition.getNotValues(), caller);
    } else if (request != null) {
      permissions.add(path + ".values", condition.getValues(), condition.getNotValues(), request);
    } else {
      unsupported(path + ".key", "\"" + key + "\": " + keyProblem(key));
    }
  }

  /**
   * A field of the HTTP request. On a TCP chain it cannot be matched at all: an allowing rule that
   * uses it is left out, a denying rule ignores it, as Istio's TCP filter does.
   */
  private <T> void requestField(
      Conjunction<T> and,
      String path,
      List<String> values,
      List<String> notValues,
      Mapper<T> mapper)
      throws Unsupported {
    if (target != Target.TCP) {
      and.add(path, values, notValues, mapper);
      return;
    }
    if (!list(values).isEmpty()) {
      unsupported(path, HTTP_ONLY);
    }
    if (!list(notValues).isEmpty()) {
      unsupported(notPath(path), HTTP_ONLY);
    }
  }

  /** The matcher of a condition key about the request's verified JWT, or null for other keys. */
  private static Mapper<Principal> tokenMapper(String key) {
    switch (key) {
      case "request.auth.principal":
        return RbacMatchers::requestPrincipal;
      case "request.auth.audiences":
        return value -> RbacMatchers.jwtClaim(List.of("aud"), value);
      case "request.auth.presenter":
        return value -> RbacMatchers.jwtClaim(List.of("azp"), value);
      default:
        if (!key.startsWith("request.auth.claims")) {
          return null;
        }
        List<String> claims = RbacMatchers.claimPath(key);
        return claims == null ? null : value -> RbacMatchers.jwtClaim(claims, value);
    }
  }

  /**
   * A field about the request's verified JWT, which only Envoy's HTTP chains can see: a TCP chain
   * sees no request, and gRPC servers have no JWT filter to verify one.
   */
  private void jwtField(
      Conjunction<Principal> and,
      String path,
      List<String> values,
      List<String> notValues,
      Mapper<Principal> mapper)
      throws Unsupported {
    if (target == Target.HTTP) {
      and.add(path, values, notValues, mapper);
      return;
    }
    String reason = target == Target.TCP ? HTTP_ONLY : PROXYLESS_JWT;
    if (!list(values).isEmpty()) {
      unsupported(path, reason);
    }
    if (!list(notValues).isEmpty()) {
      unsupported(notPath(path), reason);
    }
  }

  /** Why a condition key cannot be matched for this target. */
  private String keyProblem(String key) {
    String header = RbacMatchers.headerName(key);
    if (header != null) {
      return headerProblem(header);
    }
    if (key.startsWith("request.auth.claims")) {
      return "not a claim key (expected: request.auth.claims[name], or [outer][inner] for a"
          + " nested claim)";
    }
    if (key.equals("connection.sni")) {
      return "gRPC servers match SNI against an empty name";
    }
    return "not a supported condition key";
  }

  /** gRFC A41 has servers reject matchers on {@code grpc-*} headers and {@code :scheme}. */
  private String headerProblem(String header) {
    String name = header.toLowerCase(Locale.ROOT);
    if (name.isEmpty()) {
      return "empty header name";
    }
    if (target == Target.PROXYLESS && (name.startsWith("grpc-") || name.equals(":scheme"))) {
      return "gRPC servers cannot match this header";
    }
    return null;
  }

  /**
   * Allowing: the rule cannot be kept (the caller reports it). Denying: reported here; the caller
   * leaves the condition out, so the rule matches more.
   */
  private void unsupported(String where, String reason) throws Unsupported {
    if (effect.narrows()) {
      throw new Unsupported(where + ": " + reason);
    }
    warn(
        where
            + ": "
            + reason
            + "; ignored, so the "
            + effect
            + " rule matches more "
            + target.matched);
  }

  private void warn(String message) {
    warnings.accept(entry.key() + ": " + message);
  }

  private Principal peer(String value) throws Unsupported {
    return RbacMatchers.peer(value, trustDomain);
  }

  private Principal serviceAccount(String value) throws Unsupported {
    return RbacMatchers.serviceAccount(value, entry.key().namespace());
  }

  /** One value of a field as a matcher. */
  @FunctionalInterface
  private interface Mapper<T> {
    T map(String value) throws Unsupported;
  }

  /** How matchers of one type combine; Permission and Principal mirror each other. */
  private record Kind<T>(
      Function<List<T>, T> or, Function<List<T>, T> and, UnaryOperator<T> not, T any) {}

  private static final Kind<Permission> PERMISSION =
      new Kind<>(
          rules -> Permission.newBuilder().setOrRules(permissions(rules)).build(),
          rules -> Permission.newBuilder().setAndRules(permissions(rules)).build(),
          rule -> Permission.newBuilder().setNotRule(rule).build(),
          Permission.newBuilder().setAny(true).build());

  private static final Kind<Principal> PRINCIPAL =
      new Kind<>(
          ids -> Principal.newBuilder().setOrIds(principals(ids)).build(),
          ids -> Principal.newBuilder().setAndIds(principals(ids)).build(),
          id -> Principal.newBuilder().setNotId(id).build(),
          Principal.newBuilder().setAny(true).build());

  private static Permission.Set permissions(List<Permission> rules) {
    return Permission.Set.newBuilder().addAllRules(rules).build();
  }

  private static Principal.Set principals(List<Principal> ids) {
    return Principal.Set.newBuilder().addAllIds(ids).build();
  }

  /** The negated form of a field's path: {@code ...operation.paths} gives {@code ...notPaths}. */
  private static String notPath(String path) {
    int dot = path.lastIndexOf('.') + 1;
    return path.substring(0, dot)
        + "not"
        + Character.toUpperCase(path.charAt(dot))
        + path.substring(dot + 1);
  }

  /**
   * The conditions of one {@code from} or {@code to}, to be ANDed; each field adds {@code
   * or(values)} and {@code not(or(notValues))}, as Istio does.
   */
  private static final class Conjunction<T> {
    private final Kind<T> kind;
    private final RbacPolicyBuilder builder;
    private final List<T> members = new ArrayList<>();

    Conjunction(Kind<T> kind, RbacPolicyBuilder builder) {
      this.kind = kind;
      this.builder = builder;
    }

    /**
     * A field at {@code path}. A value that cannot be expressed drops an allowing rule; in a
     * denying rule it drops the field (for values) or only itself (for notValues), either way
     * matching more.
     */
    void add(String path, List<String> values, List<String> notValues, Mapper<T> mapper)
        throws Unsupported {
      List<T> matches = new ArrayList<>();
      for (int i = 0; i < list(values).size(); i++) {
        try {
          matches.add(map(mapper, values.get(i)));
        } catch (Unsupported e) {
          builder.unsupported(path, e.getMessage());
          matches.clear();
          break;
        }
      }
      if (!matches.isEmpty()) {
        members.add(kind.or().apply(matches));
      }
      List<T> excluded = new ArrayList<>();
      for (int i = 0; i < list(notValues).size(); i++) {
        try {
          excluded.add(map(mapper, notValues.get(i)));
        } catch (Unsupported e) {
          builder.unsupported(notPath(path) + "[" + i + "]", e.getMessage());
        }
      }
      if (!excluded.isEmpty()) {
        members.add(kind.not().apply(kind.or().apply(excluded)));
      }
    }

    private static <T> T map(Mapper<T> mapper, String value) throws Unsupported {
      if (value == null) {
        throw new Unsupported("empty value");
      }
      return mapper.map(value);
    }

    void addAll(Conjunction<T> other) {
      members.addAll(other.members);
    }

    /** All of the members; with none, anything (Istio's {@code and: [any]}). */
    T build() {
      return kind.and().apply(members.isEmpty() ? List.of(kind.any()) : members);
    }
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }

  /**
   * A list of strings the model keeps among a message's unknown fields (Istio fields newer than its
   * types); an entry that is not a string reads as null and is reported as empty.
   */
  private static List<String> strings(java.util.Map<String, Object> fields, String name) {
    Object value = fields == null ? null : fields.get(name);
    if (!(value instanceof List<?> items)) {
      return List.of();
    }
    List<String> strings = new ArrayList<>();
    for (Object item : items) {
      strings.add(item instanceof String text ? text : null);
    }
    return strings;
  }
}
