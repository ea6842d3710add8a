package dev.bosun.controlplane.xds.policy;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.xds.policy.RbacPolicyBuilder.Target;
import dev.bosun.xds.EnvoyValidator;
import io.envoyproxy.envoy.config.listener.v3.Filter;
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
import java.util.function.IntFunction;

/**
 * Istio AuthorizationPolicies as Envoy RBAC filters: HTTP filters for Envoy sidecars' HTTP chains
 * and for proxyless gRPC servers (which implement the part of RBAC described in gRFC A41), network
 * filters for sidecars' other inbound chains. Whatever a policy asks for that the target cannot do
 * is reported and resolved toward denying: such an ALLOW rule is left out (it allows less), such a
 * DENY condition is widened (it denies more). Likewise a CUSTOM policy, whose ext_authz provider
 * Bosun cannot call, denies whatever its rules match, as istiod does with a provider it cannot use.
 */
public final class AuthorizationFilters {
  /**
   * The DENY filter's name. It differs from the ALLOW filter's because grpc-java rejects a
   * connection manager with two filters of one name (Envoy picks a filter by its config type).
   */
  public static final String DENY_FILTER = "envoy.filters.http.rbac.DENY";

  /** The AUDIT filter's name; it logs (Envoy's RBAC LOG action) and never refuses. */
  public static final String AUDIT_FILTER = "envoy.filters.http.rbac.AUDIT";

  /** Envoy's ext_authz HTTP filter, which CUSTOM policies send requests to. */
  static final String EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";

  /** Envoy's ext_authz network filter, for CUSTOM policies with a gRPC provider. */
  static final String NETWORK_EXT_AUTHZ_FILTER = "envoy.filters.network.ext_authz";

  /** The ALLOW filter's name, the one Istio gives its RBAC filter. */
  public static final String ALLOW_FILTER = "envoy.filters.http.rbac";

  /**
   * The name of both network filters, DENY and ALLOW, as Istio names them: only Envoy reads network
   * filters, and it tells them apart by position and config.
   */
  public static final String NETWORK_FILTER = "envoy.filters.network.rbac";

  /** The network filters' stat prefix, Istio's. */
  static final String TCP_STAT_PREFIX = "tcp.";

  /** Istio's annotation for a policy that is evaluated and counted but not enforced. */
  static final String DRY_RUN_ANNOTATION = "istio.io/dry-run";

  private static final EnvoyValidator VALIDATOR = EnvoyValidator.shared();

  /** What a CUSTOM filter that turned out invalid is replaced with: denying everything. */
  private static final io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC CLOSED_HTTP =
      httpRbac()
          .setRules(
              RBAC.newBuilder()
                  .setAction(RBAC.Action.DENY)
                  .putPolicies("deny-all", RbacPolicyBuilder.MATCH_EVERYTHING))
          .build();

  private static final io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC CLOSED_TCP =
      networkRbac().setStatPrefix(TCP_STAT_PREFIX).setRules(CLOSED_HTTP.getRules()).build();

  private AuthorizationFilters() {}

  private static io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.Builder httpRbac() {
    return io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder();
  }

  private static io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.Builder networkRbac() {
    return io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder();
  }

  /**
   * RBAC HTTP filters for a workload's inbound HTTP traffic with no ext_authz provider available
   * (gRPC servers, tests): AUDIT (logs only), then DENY, then ALLOW. CUSTOM policies deny what
   * their rules match. Empty when no policy applies.
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
    return httpFilters(
        policies,
        trustDomain,
        proxyless ? Target.PROXYLESS : Target.HTTP,
        ExtAuthzProviders.NONE,
        Optional.empty(),
        warnings);
  }

  /**
   * The authorization HTTP filters of an Envoy proxy's HTTP chains, in istiod's order: CUSTOM (an
   * RBAC filter whose shadow rules mark the requests to check, then the provider's ext_authz
   * filter), {@code authentication} (the JWT filter), then AUDIT, DENY and ALLOW.
   *
   * @param providers the mesh config's ext_authz providers, for CUSTOM policies
   * @param authentication the JWT filter, when a RequestAuthentication applies
   */
  public static List<HttpFilter> httpFilters(
      List<ConfigEntry> policies,
      String trustDomain,
      ExtAuthzProviders providers,
      Optional<HttpFilter> authentication,
      Consumer<String> warnings) {
    return httpFilters(policies, trustDomain, Target.HTTP, providers, authentication, warnings);
  }

  private static List<HttpFilter> httpFilters(
      List<ConfigEntry> policies,
      String trustDomain,
      Target target,
      ExtAuthzProviders providers,
      Optional<HttpFilter> authentication,
      Consumer<String> warnings) {
    Translated rules = translate(policies, trustDomain, target, providers, warnings);
    List<HttpFilter> filters = new ArrayList<>();
    rules
        .custom()
        .ifPresent(
            custom -> {
              var rbac =
                  httpRbac()
                      .setShadowRules(custom.rules().rbac())
                      .setShadowRulesStatPrefix(ExtAuthzProviders.SHADOW_PREFIX)
                      .build();
              filters.add(
                  HttpFilter.newBuilder()
                      .setName(ALLOW_FILTER)
                      .setTypedConfig(Any.pack(valid(ALLOW_FILTER, rbac, CLOSED_HTTP, warnings)))
                      .build());
              filters.add(
                  HttpFilter.newBuilder()
                      .setName(EXT_AUTHZ_FILTER)
                      .setTypedConfig(Any.pack(ExtAuthzProviders.httpFilter(custom.provider())))
                      .build());
            });
    authentication.ifPresent(filters::add);
    httpFilter(AUDIT_FILTER, rules.audit(), warnings).ifPresent(filters::add);
    httpFilter(DENY_FILTER, rules.deny(), warnings).ifPresent(filters::add);
    httpFilter(ALLOW_FILTER, rules.allow(), warnings).ifPresent(filters::add);
    return List.copyOf(filters);
  }

  /**
   * RBAC network filters for an Envoy sidecar's inbound chains that are not HTTP (TCP ports and the
   * passthrough chains), to place before the TCP proxy: AUDIT, DENY, then ALLOW. Empty when no
   * policy applies. Request attributes (hosts, methods, paths, headers, tokens) cannot be matched
   * on a connection, so an ALLOW rule using them is left out and a DENY rule ignores them, as with
   * Istio: an ALLOW policy whose rules all need HTTP allows no connection at all.
   *
   * @param policies AuthorizationPolicies applying to the workload
   * @param trustDomain the mesh's trust domain; a principal in {@code cluster.local} means it
   * @param warnings one line per policy, rule or condition left out or widened
   */
  public static List<Filter> networkFilters(
      List<ConfigEntry> policies, String trustDomain, Consumer<String> warnings) {
    return networkFilters(policies, trustDomain, ExtAuthzProviders.NONE, warnings);
  }

  /**
   * As {@link #networkFilters(List, String, Consumer)}, with CUSTOM policies first checked by their
   * provider when it is a gRPC one (an HTTP provider cannot check a connection: istiod then leaves
   * the policy off TCP chains, and so does Bosun, with a warning).
   */
  public static List<Filter> networkFilters(
      List<ConfigEntry> policies,
      String trustDomain,
      ExtAuthzProviders providers,
      Consumer<String> warnings) {
    Translated rules = translate(policies, trustDomain, Target.TCP, providers, warnings);
    List<Filter> filters = new ArrayList<>();
    rules
        .custom()
        .ifPresent(
            custom -> {
              var rbac =
                  networkRbac()
                      .setStatPrefix(TCP_STAT_PREFIX)
                      .setShadowRules(custom.rules().rbac())
                      .setShadowRulesStatPrefix(ExtAuthzProviders.SHADOW_PREFIX)
                      .build();
              filters.add(
                  Filter.newBuilder()
                      .setName(NETWORK_FILTER)
                      .setTypedConfig(
                          Any.pack(valid(NETWORK_FILTER + " (CUSTOM)", rbac, CLOSED_TCP, warnings)))
                      .build());
              filters.add(
                  Filter.newBuilder()
                      .setName(NETWORK_EXT_AUTHZ_FILTER)
                      .setTypedConfig(
                          Any.pack(ExtAuthzProviders.tcpFilter(custom.provider()).orElseThrow()))
                      .build());
            });
    networkFilter(rules.audit(), warnings).ifPresent(filters::add);
    networkFilter(rules.deny(), warnings).ifPresent(filters::add);
    networkFilter(rules.allow(), warnings).ifPresent(filters::add);
    return List.copyOf(filters);
  }

  /** The rules of the CUSTOM policies a workload's one usable provider checks. */
  private record Custom(ExtAuthzProviders.Provider provider, ActionRules rules) {}

  /** The CUSTOM, AUDIT, DENY and ALLOW rules of a workload's policies, for one target. */
  private record Translated(
      Optional<Custom> custom, ActionRules audit, ActionRules deny, ActionRules allow) {}

  private static Translated translate(
      List<ConfigEntry> policies,
      String trustDomain,
      Target target,
      ExtAuthzProviders providers,
      Consumer<String> warnings) {
    requireNonNull(policies, "policies");
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(warnings, "warnings");
    ActionRules audit = new ActionRules(RBAC.Action.LOG);
    ActionRules deny = new ActionRules(RBAC.Action.DENY);
    ActionRules allow = new ActionRules(RBAC.Action.ALLOW);
    ActionRules customRules = new ActionRules(RBAC.Action.DENY);
    CustomDecision custom = custom(policies, target, providers);
    for (ConfigEntry entry : policies) {
      AuthorizationPolicy spec = entry.spec(AuthorizationPolicy.class);
      AuthorizationPolicyAction action =
          spec.getAction() == null ? AuthorizationPolicyAction.ALLOW : spec.getAction();
      List<Rule> rules = list(spec.getRules());
      String skipped = skipReason(entry, action, rules, target);
      if (skipped == null && action == AuthorizationPolicyAction.CUSTOM) {
        skipped = custom.skipped();
      }
      if (skipped != null) {
        warnings.accept(entry.key() + ": " + skipped + "; policy skipped");
        continue;
      }
      RbacPolicyBuilder.Effect effect =
          switch (action) {
            case ALLOW -> RbacPolicyBuilder.Effect.ALLOW;
            case AUDIT -> RbacPolicyBuilder.Effect.AUDIT;
            case CUSTOM ->
                custom.usable() != null
                    ? RbacPolicyBuilder.Effect.CUSTOM
                    : RbacPolicyBuilder.Effect.DENY;
            default -> RbacPolicyBuilder.Effect.DENY;
          };
      IntFunction<String> key = index -> key(entry, index);
      String provider = entry.document().path("spec").path("provider").path("name").asText("");
      if (effect == RbacPolicyBuilder.Effect.CUSTOM) {
        key = index -> ExtAuthzProviders.MATCH_PREFIX + "-" + provider + "-" + key(entry, index);
      } else if (action == AuthorizationPolicyAction.CUSTOM) {
        warnings.accept(
            "%s: spec.provider.name: \"%s\": %s; its rules are enforced as DENY rules"
                .formatted(entry.key(), provider, custom.problem()));
        key = index -> customKey(entry, provider, index);
      }
      RbacPolicyBuilder builder =
          new RbacPolicyBuilder(entry, effect, target, trustDomain, warnings);
      ActionRules into =
          switch (effect) {
            case ALLOW -> allow;
            case AUDIT -> audit;
            case DENY -> deny;
            case CUSTOM -> customRules;
          };
      into.add(builder, key, rules, dryRun(entry, warnings));
    }
    Optional<Custom> checked =
        custom.usable() != null && customRules.present()
            ? Optional.of(new Custom(custom.usable(), customRules))
            : Optional.empty();
    return new Translated(checked, audit, deny, allow);
  }

  /**
   * What becomes of a workload's CUSTOM policies: checked by their one usable provider, left off
   * (an HTTP provider on a TCP chain), or denying what they match, with why.
   */
  private record CustomDecision(
      ExtAuthzProviders.Provider usable, String skipped, String problem) {}

  private static CustomDecision custom(
      List<ConfigEntry> policies, Target target, ExtAuthzProviders providers) {
    java.util.TreeSet<String> names = new java.util.TreeSet<>();
    for (ConfigEntry entry : policies) {
      if (entry.spec(AuthorizationPolicy.class).getAction() == AuthorizationPolicyAction.CUSTOM
          && !dryRun(entry, ignored -> {})) {
        names.add(entry.document().path("spec").path("provider").path("name").asText(""));
      }
    }
    if (names.isEmpty()) {
      return new CustomDecision(null, null, null);
    }
    if (target == Target.PROXYLESS) {
      return new CustomDecision(null, null, "gRPC servers have no ext_authz filter");
    }
    if (names.size() > 1) {
      return new CustomDecision(
          null,
          null,
          "one workload's CUSTOM policies may name one provider (as istiod's default), these name "
              + names);
    }
    Optional<ExtAuthzProviders.Provider> provider = providers.provider(names.first());
    if (provider.isEmpty()) {
      return new CustomDecision(
          null,
          null,
          "no such envoyExtAuthzHttp or envoyExtAuthzGrpc provider in the mesh config's"
              + " extensionProviders (it has "
              + providers.names()
              + ")");
    }
    if (!provider.get().usable()) {
      return new CustomDecision(
          null,
          null,
          "the provider cannot be used: " + String.join("; ", provider.get().problems()));
    }
    if (target == Target.TCP && provider.get().grpc().isEmpty()) {
      return new CustomDecision(
          null,
          "spec.provider.name: \""
              + names.first()
              + "\" is an HTTP provider, which cannot check TCP connections (as with istiod, the"
              + " policy is not applied to them)",
          null);
    }
    return new CustomDecision(provider.get(), null, null);
  }

  /**
   * Why a whole policy cannot be applied, or null. A CUSTOM policy is applied as istiod applies one
   * whose provider it cannot use: its rules deny what they match, so it fails closed, not open.
   */
  private static String skipReason(
      ConfigEntry entry, AuthorizationPolicyAction action, List<Rule> rules, Target target) {
    if (action == AuthorizationPolicyAction.AUDIT && target == Target.PROXYLESS) {
      return "spec.action: AUDIT: gRPC servers cannot audit (their RBAC has no LOG action)";
    }
    if (action != AuthorizationPolicyAction.ALLOW && rules.isEmpty()) {
      return "spec.rules: a " + action + " policy without rules matches nothing";
    }
    if (action == AuthorizationPolicyAction.CUSTOM && dryRun(entry, ignored -> {})) {
      // istiod's dry run of a CUSTOM policy still calls the provider; Bosun applies none.
      return "metadata.annotations["
          + DRY_RUN_ANNOTATION
          + "]: CUSTOM policies are not dry run (expected: no dry-run annotation)";
    }
    if (target == Target.PROXYLESS && dryRun(entry, ignored -> {})) {
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

    /** The policy's rules, each under the RBAC policy name {@code key} gives its index. */
    void add(RbacPolicyBuilder builder, IntFunction<String> key, List<Rule> rules, boolean dryRun) {
      Map<String, Policy> target = dryRun ? shadow : enforced;
      anyShadow |= dryRun;
      anyEnforced |= !dryRun;
      if (rules.isEmpty()) {
        target.put(key.apply(0), RbacPolicyBuilder.MATCH_NOTHING);
      }
      for (int i = 0; i < rules.size(); i++) {
        String name = key.apply(i);
        builder.policy(rules.get(i), i, name).ifPresent(policy -> target.put(name, policy));
      }
    }

    RBAC.Action action() {
      return action;
    }

    /** Whether any policy of this action applies, even one whose rules were all left out. */
    boolean present() {
      return anyEnforced || anyShadow;
    }

    Optional<RBAC> enforced() {
      return anyEnforced
          ? Optional.of(RBAC.newBuilder().setAction(action).putAllPolicies(enforced).build())
          : Optional.empty();
    }

    /** The rules, enforced or not, as one RBAC (CUSTOM rules are only ever shadow rules). */
    RBAC rbac() {
      return RBAC.newBuilder().setAction(action).putAllPolicies(enforced).build();
    }

    Optional<RBAC> shadow() {
      return anyShadow
          ? Optional.of(RBAC.newBuilder().setAction(action).putAllPolicies(shadow).build())
          : Optional.empty();
    }

    /** Istio's stat prefix for dry-run rules of this action (none for AUDIT, as istiod has it). */
    String shadowStatPrefix() {
      return switch (action) {
        case ALLOW -> "istio_dry_run_allow_";
        case DENY -> "istio_dry_run_deny_";
        default -> "";
      };
    }

    /** What is enforced instead of rules that turned out invalid: denying everything. */
    RBAC closed() {
      RBAC.Builder closed = RBAC.newBuilder().setAction(action);
      if (action == RBAC.Action.DENY) {
        closed.putPolicies("deny-all", RbacPolicyBuilder.MATCH_EVERYTHING);
      }
      return closed.build();
    }
  }

  /**
   * The HTTP filter, when a policy of this action applies. An ALLOW filter stays even when none of
   * its rules could be kept: the workload then allows nothing, as with Istio.
   */
  private static Optional<HttpFilter> httpFilter(
      String name, ActionRules rules, Consumer<String> warnings) {
    if (!rules.present()) {
      return Optional.empty();
    }
    var rbac = httpRbac();
    rules.enforced().ifPresent(rbac::setRules);
    rules
        .shadow()
        .ifPresent(s -> rbac.setShadowRules(s).setShadowRulesStatPrefix(rules.shadowStatPrefix()));
    var closed = httpRbac().setRules(rules.closed()).build();
    return Optional.of(
        HttpFilter.newBuilder()
            .setName(name)
            .setTypedConfig(Any.pack(valid(name, rbac.build(), closed, warnings)))
            .build());
  }

  /** The network filter, when a policy of this action applies; as {@link #httpFilter}. */
  private static Optional<Filter> networkFilter(ActionRules rules, Consumer<String> warnings) {
    if (!rules.present()) {
      return Optional.empty();
    }
    var rbac = networkRbac().setStatPrefix(TCP_STAT_PREFIX);
    rules.enforced().ifPresent(rbac::setRules);
    rules
        .shadow()
        .ifPresent(s -> rbac.setShadowRules(s).setShadowRulesStatPrefix(rules.shadowStatPrefix()));
    var closed = networkRbac().setStatPrefix(TCP_STAT_PREFIX).setRules(rules.closed()).build();
    String name = NETWORK_FILTER + " (" + rules.action() + ")";
    return Optional.of(
        Filter.newBuilder()
            .setName(NETWORK_FILTER)
            .setTypedConfig(Any.pack(valid(name, rbac.build(), closed, warnings)))
            .build());
  }

  /**
   * {@code rbac} when it meets Envoy's constraints, else {@code closed}. Each policy passed on its
   * own, so a failure here is a bug in this class: it fails closed, never open.
   */
  private static <M extends Message> M valid(
      String name, M rbac, M closed, Consumer<String> warnings) {
    Optional<String> problem = VALIDATOR.check(rbac);
    if (problem.isEmpty()) {
      return rbac;
    }
    warnings.accept(name + ": generated RBAC is invalid (" + problem.get() + "); denying all");
    return closed;
  }

  /** Istio's name for a rule's RBAC policy. */
  private static String key(ConfigEntry entry, int index) {
    return "ns[%s]-policy[%s]-rule[%d]"
        .formatted(entry.key().namespace(), entry.key().name(), index);
  }

  /** Istio's name for a CUSTOM rule turned into a DENY rule because its provider is unusable. */
  private static String customKey(ConfigEntry entry, String provider, int index) {
    return "istio-ext-authz-"
        + (provider.isEmpty() ? "" : provider + "-")
        + key(entry, index)
        + "-deny-due-to-bad-CUSTOM-action";
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }
}
