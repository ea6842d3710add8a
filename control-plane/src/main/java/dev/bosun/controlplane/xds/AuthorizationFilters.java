package dev.bosun.controlplane.xds;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicy;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.api.security.v1beta1.Rule;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

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
      RbacPolicyBuilder builder =
          new RbacPolicyBuilder(
              entry,
              allowing,
              proxyless ? RbacPolicyBuilder.Target.PROXYLESS : RbacPolicyBuilder.Target.HTTP,
              trustDomain,
              warnings);
      (allowing ? allow : deny).add(builder, entry, rules, dryRun(entry, warnings));
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

    void add(RbacPolicyBuilder builder, ConfigEntry entry, List<Rule> rules, boolean dryRun) {
      Map<String, Policy> target = dryRun ? shadow : enforced;
      anyShadow |= dryRun;
      anyEnforced |= !dryRun;
      if (rules.isEmpty()) {
        target.put(key(entry, 0), RbacPolicyBuilder.MATCH_NOTHING);
      }
      for (int i = 0; i < rules.size(); i++) {
        String key = key(entry, i);
        builder.policy(rules.get(i), i, key).ifPresent(policy -> target.put(key, policy));
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
          closed.putPolicies("deny-all", RbacPolicyBuilder.MATCH_EVERYTHING);
        }
        rbac.clear().setRules(closed);
      }
      return Optional.of(
          HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(rbac.build())).build());
    }
  }

  /** Istio's name for a rule's RBAC policy. */
  private static String key(ConfigEntry entry, int index) {
    return "ns[%s]-policy[%s]-rule[%d]"
        .formatted(entry.key().namespace(), entry.key().name(), index);
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }
}
