package dev.bosun.controlplane.xds;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.xds.RbacMatchers.Unsupported;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicy;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.api.security.v1beta1.Condition;
import io.fabric8.istio.api.api.security.v1beta1.Operation;
import io.fabric8.istio.api.api.security.v1beta1.Rule;
import io.fabric8.istio.api.api.security.v1beta1.RuleFrom;
import io.fabric8.istio.api.api.security.v1beta1.RuleTo;
import io.fabric8.istio.api.api.security.v1beta1.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Istio AuthorizationPolicies as Envoy RBAC HTTP filters, for Envoy sidecars and for proxyless gRPC
 * servers (which implement the part of RBAC described in gRFC A41). Whatever a policy asks for that
 * the target cannot do is reported and resolved toward denying: such an ALLOW rule is left out (it
 * allows less), such a DENY condition is widened (it denies more).
 */
public final class AuthorizationFilters {
  /**
   * The DENY filter's name. It differs from the ALLOW filter's because grpc-java rejects a
   * connection manager with two filters of one name (Envoy picks a filter by its config type).
   */
  public static final String DENY_FILTER = "envoy.filters.http.rbac.DENY";

  /** The ALLOW filter's name, the one Istio gives its RBAC filter. */
  public static final String ALLOW_FILTER = "envoy.filters.http.rbac";

  /** Istio's annotation for a policy that is evaluated and counted but not enforced. */
  static final String DRY_RUN_ANNOTATION = "istio.io/dry-run";

  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();

  /** What Istio generates for an ALLOW policy without rules: a policy no request matches. */
  private static final Policy MATCH_NOTHING =
      Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setNotRule(Permission.newBuilder().setAny(true)))
          .addPrincipals(Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)))
          .build();

  private static final Policy MATCH_EVERYTHING =
      Policy.newBuilder()
          .addPermissions(Permission.newBuilder().setAny(true))
          .addPrincipals(Principal.newBuilder().setAny(true))
          .build();

  private AuthorizationFilters() {}

  /**
   * RBAC HTTP filters for a workload's inbound HTTP traffic, to place before the router: DENY
   * first, then ALLOW. Empty when no policy applies.
   *
   * @param policies AuthorizationPolicies applying to the workload, from {@code
   *     ConfigIndex.policies(IstioKind.AUTHORIZATION_POLICY, namespace, labels)}
   * @param trustDomain the mesh's trust domain; a principal in {@code cluster.local} means it
   * @param proxyless true for grpc-java servers (gRFC A41 subset), false for Envoy
   * @param warnings one line per policy, rule or condition left out or widened
   */
  public static List<HttpFilter> httpFilters(
      List<ConfigEntry> policies,
      String trustDomain,
      boolean proxyless,
      Consumer<String> warnings) {
    requireNonNull(policies, "policies");
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(warnings, "warnings");
    ActionRules deny = new ActionRules(RBAC.Action.DENY);
    ActionRules allow = new ActionRules(RBAC.Action.ALLOW);
    for (ConfigEntry entry : policies) {
      AuthorizationPolicy spec = entry.spec(AuthorizationPolicy.class);
      AuthorizationPolicyAction action =
          spec.getAction() == null ? AuthorizationPolicyAction.ALLOW : spec.getAction();
      List<Rule> rules = list(spec.getRules());
      String skipped = skipReason(entry, action, rules, proxyless, warnings);
      if (skipped != null) {
        warnings.accept(entry.key() + ": " + skipped + "; policy skipped");
        continue;
      }
      boolean allowing = action == AuthorizationPolicyAction.ALLOW;
      Translator translator = new Translator(entry, allowing, proxyless, trustDomain, warnings);
      (allowing ? allow : deny).add(translator, rules, dryRun(entry, warnings));
    }
    List<HttpFilter> filters = new ArrayList<>();
    deny.filter(DENY_FILTER, warnings).ifPresent(filters::add);
    allow.filter(ALLOW_FILTER, warnings).ifPresent(filters::add);
    return List.copyOf(filters);
  }

  /** Why a whole policy cannot be applied, or null. */
  private static String skipReason(
      ConfigEntry entry,
      AuthorizationPolicyAction action,
      List<Rule> rules,
      boolean proxyless,
      Consumer<String> warnings) {
    if (action != AuthorizationPolicyAction.ALLOW && action != AuthorizationPolicyAction.DENY) {
      return "spec.action: " + action + " is not supported (expected: ALLOW or DENY)";
    }
    if (action == AuthorizationPolicyAction.DENY && rules.isEmpty()) {
      return "spec.rules: a DENY policy without rules matches nothing";
    }
    if (proxyless && dryRun(entry, ignored -> {})) {
      return "metadata.annotations[" + DRY_RUN_ANNOTATION + "]: gRPC servers have no dry run";
    }
    return null;
  }

  /** Istio's dry-run annotation; a value that is not a boolean leaves the policy enforced. */
  private static boolean dryRun(ConfigEntry entry, Consumer<String> warnings) {
    JsonNode value = entry.document().path("metadata").path("annotations").path(DRY_RUN_ANNOTATION);
    if (value.isMissingNode() || value.isNull()) {
      return false;
    }
    return switch (value.asText().toLowerCase(Locale.ROOT)) {
      case "true", "t", "1" -> true;
      case "false", "f", "0" -> false;
      default -> {
        warnings.accept(
            "%s: metadata.annotations[%s]: \"%s\": not a boolean (expected: true or false);"
                    .formatted(entry.key(), DRY_RUN_ANNOTATION, value.asText())
                + " policy enforced");
        yield false;
      }
    };
  }

  /** The RBAC policies of one action, enforced and dry run, keyed like Istio's. */
  private static final class ActionRules {
    private final RBAC.Action action;
    private final Map<String, Policy> enforced = new TreeMap<>();
    private final Map<String, Policy> shadow = new TreeMap<>();
    private boolean anyEnforced;
    private boolean anyShadow;

    ActionRules(RBAC.Action action) {
      this.action = action;
    }

    void add(Translator translator, List<Rule> rules, boolean dryRun) {
      Map<String, Policy> target = dryRun ? shadow : enforced;
      anyShadow |= dryRun;
      anyEnforced |= !dryRun;
      if (rules.isEmpty()) {
        target.put(translator.key(0), MATCH_NOTHING);
      }
      for (int i = 0; i < rules.size(); i++) {
        String key = translator.key(i);
        translator.policy(rules.get(i), i).ifPresent(policy -> target.put(key, policy));
      }
    }

    /**
     * The filter, when a policy of this action applies. An ALLOW filter stays even when none of its
     * rules could be kept: the workload then allows nothing, as with Istio.
     */
    Optional<HttpFilter> filter(String name, Consumer<String> warnings) {
      if (!anyEnforced && !anyShadow) {
        return Optional.empty();
      }
      var rbac = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder();
      if (anyEnforced) {
        rbac.setRules(RBAC.newBuilder().setAction(action).putAllPolicies(enforced));
      }
      if (anyShadow) {
        rbac.setShadowRules(RBAC.newBuilder().setAction(action).putAllPolicies(shadow))
            .setShadowRulesStatPrefix(
                action == RBAC.Action.ALLOW ? "istio_dry_run_allow_" : "istio_dry_run_deny_");
      }
      Optional<String> problem = VALIDATOR.check(rbac.build());
      if (problem.isPresent()) {
        // Each policy passed on its own, so this is a bug here; fail closed, never open.
        warnings.accept(name + ": generated RBAC is invalid (" + problem.get() + "); denying all");
        RBAC.Builder closed = RBAC.newBuilder().setAction(action);
        if (action == RBAC.Action.DENY) {
          closed.putPolicies("deny-all", MATCH_EVERYTHING);
        }
        rbac.clear().setRules(closed);
      }
      return Optional.of(
          HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(rbac.build())).build());
    }
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

  /**
   * The conditions of one {@code from} or {@code to}, to be ANDed; each field adds {@code
   * or(values)} and {@code not(or(notValues))}, as Istio does.
   */
  private static final class Conjunction<T> {
    private final Kind<T> kind;
    private final Translator translator;
    private final List<T> members = new ArrayList<>();

    Conjunction(Kind<T> kind, Translator translator) {
      this.kind = kind;
      this.translator = translator;
    }

    /**
     * A field at {@code path} (its negation is the {@code not} form of the last name). A value that
     * cannot be expressed drops an ALLOW rule; in a DENY rule it drops the field (for values) or
     * only itself (for notValues), either way matching more.
     */
    void add(String path, List<String> values, List<String> notValues, Mapper<T> mapper)
        throws Unsupported {
      List<T> matches = new ArrayList<>();
      for (int i = 0; i < list(values).size(); i++) {
        try {
          matches.add(map(mapper, values.get(i)));
        } catch (Unsupported e) {
          translator.unsupported(path, e.getMessage());
          matches.clear();
          break;
        }
      }
      if (!matches.isEmpty()) {
        members.add(kind.or().apply(matches));
      }
      int dot = path.lastIndexOf('.') + 1;
      String notPath =
          path.substring(0, dot)
              + "not"
              + Character.toUpperCase(path.charAt(dot))
              + path.substring(dot + 1);
      List<T> excluded = new ArrayList<>();
      for (int i = 0; i < list(notValues).size(); i++) {
        try {
          excluded.add(map(mapper, notValues.get(i)));
        } catch (Unsupported e) {
          translator.unsupported(notPath + "[" + i + "]", e.getMessage());
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

  /** Translates the rules of one policy for one target: Envoy or gRPC, ALLOW or DENY. */
  private record Translator(
      ConfigEntry entry,
      boolean allow,
      boolean proxyless,
      String trustDomain,
      Consumer<String> warnings) {

    /** Istio's name for a rule's RBAC policy. */
    String key(int index) {
      return "ns[%s]-policy[%s]-rule[%d]"
          .formatted(entry.key().namespace(), entry.key().name(), index);
    }

    /** The rule as an RBAC policy: its {@code from}s OR, its {@code to}s OR, and all AND. */
    Optional<Policy> policy(Rule rule, int index) {
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
          Operation operation =
              i < to.size() && to.get(i) != null ? to.get(i).getOperation() : null;
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
        warn(e.getMessage() + "; ALLOW rule " + key(index) + " left out, so it allows less");
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
      if (allow) {
        warn(invalid + "ALLOW rule left out");
        return Optional.empty();
      }
      warn(invalid + "the DENY rule denies every request instead");
      return Optional.of(MATCH_EVERYTHING);
    }

    private Permission permission(Operation op, String path, Conjunction<Permission> when)
        throws Unsupported {
      Conjunction<Permission> and = new Conjunction<>(PERMISSION, this);
      if (op != null) {
        and.add(path + ".hosts", op.getHosts(), op.getNotHosts(), RbacMatchers::host);
        and.add(path + ".methods", op.getMethods(), op.getNotMethods(), RbacMatchers::method);
        and.add(path + ".paths", op.getPaths(), op.getNotPaths(), RbacMatchers::urlPath);
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
        if (!list(src.getRequestPrincipals()).isEmpty()
            || !list(src.getNotRequestPrincipals()).isEmpty()) {
          unsupported(path + ".requestPrincipals", "request authentication (JWT) is not supported");
        }
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
        and.add(
            path + ".ipBlocks", src.getIpBlocks(), src.getNotIpBlocks(), RbacMatchers::sourceIp);
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
      String header = RbacMatchers.headerName(key);
      Mapper<Principal> caller =
          switch (key) {
            case "source.ip" -> RbacMatchers::sourceIp;
            case "remote.ip" -> RbacMatchers::remoteIp;
            case "source.namespace" -> RbacMatchers::namespace;
            case "source.principal" -> this::peer;
            case "source.serviceAccount" -> this::serviceAccount;
            default ->
                header != null && headerProblem(header) == null
                    ? v -> RbacMatchers.requestHeader(header, v)
                    : null;
          };
      Mapper<Permission> request =
          switch (key) {
            case "destination.ip" -> RbacMatchers::destinationIp;
            case "destination.port" -> RbacMatchers::destinationPort;
            case "connection.sni" -> proxyless ? null : RbacMatchers::serverName;
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

    /** Why a condition key cannot be matched for this target. */
    private String keyProblem(String key) {
      String header = RbacMatchers.headerName(key);
      if (header != null) {
        return headerProblem(header);
      }
      if (key.startsWith("request.auth.")) {
        return "request authentication (JWT) is not supported";
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
      if (proxyless && (name.startsWith("grpc-") || name.equals(":scheme"))) {
        return "gRPC servers cannot match this header";
      }
      return null;
    }

    /**
     * ALLOW: the rule cannot be kept (the caller reports it). DENY: reported here; the caller
     * leaves the condition out, so the rule matches more.
     */
    void unsupported(String where, String reason) throws Unsupported {
      if (allow) {
        throw new Unsupported(where + ": " + reason);
      }
      warn(where + ": " + reason + "; ignored, so the DENY rule matches more requests");
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
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }
}
