package dev.bosun.controlplane.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.config.Conflict;
import dev.bosun.controlplane.meshconfig.MeshConfig;
import dev.bosun.controlplane.model.ExportTo;
import dev.bosun.controlplane.model.GatewayName;
import dev.bosun.controlplane.model.HostPattern;
import dev.bosun.controlplane.model.LabelSelector;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule;
import io.fabric8.istio.api.api.networking.v1alpha3.Sidecar;
import io.fabric8.istio.api.api.networking.v1alpha3.Subset;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The Istio config of one snapshot, indexed once for every proxy: VirtualServices and
 * DestinationRules by host with {@code exportTo} visibility, Sidecars and security policies by
 * namespace and workload selector, Gateways by name. Conflicts found while indexing are kept for
 * reporting.
 */
public final class ConfigIndex {

  private final String rootNamespace;
  private final MeshConfig.ExportDefaults exportDefaults;
  private final String domainSuffix;
  private final Map<IstioKind, List<ConfigEntry>> byKind;
  private final Map<String, List<ConfigEntry>> virtualServicesByHost;
  private final Map<String, List<ConfigEntry>> destinationRulesByHost;
  private final List<Map.Entry<String, List<ConfigEntry>>> wildcardDestinationRules;
  private final Map<String, List<ConfigEntry>> byNamespace;
  private final Map<ConfigKey, ConfigEntry> byKey;
  private final List<Conflict> conflicts;

  ConfigIndex(String rootNamespace, Map<IstioKind, List<ConfigEntry>> entries) {
    this(rootNamespace, "cluster.local", MeshConfig.ExportDefaults.EVERYONE, entries);
  }

  /**
   * @param exportDefaults the mesh config's {@code exportTo} of objects that set none
   */
  ConfigIndex(
      String rootNamespace,
      String domainSuffix,
      MeshConfig.ExportDefaults exportDefaults,
      Map<IstioKind, List<ConfigEntry>> entries) {
    this.rootNamespace = rootNamespace;
    this.exportDefaults = exportDefaults;
    Map<IstioKind, List<ConfigEntry>> sorted = new EnumMap<>(IstioKind.class);
    for (IstioKind kind : IstioKind.values()) {
      List<ConfigEntry> list = new ArrayList<>(entries.getOrDefault(kind, List.of()));
      list.sort(ConfigEntry.PRECEDENCE);
      sorted.put(kind, List.copyOf(list));
    }
    this.byKind = sorted;
    List<Conflict> found = new ArrayList<>();
    this.domainSuffix = domainSuffix;
    this.virtualServicesByHost =
        byHost(
            sorted.get(IstioKind.VIRTUAL_SERVICE),
            e -> qualify(hosts(e.spec(VirtualService.class)), e.key().namespace()));
    Map<String, List<ConfigEntry>> rulesByHost =
        byHost(
            sorted.get(IstioKind.DESTINATION_RULE),
            e -> qualify(List.of(e.spec(DestinationRule.class).getHost()), e.key().namespace()));
    rulesByHost.replaceAll((host, rules) -> merged(host, rules, found));
    this.destinationRulesByHost = rulesByHost;
    this.wildcardDestinationRules =
        destinationRulesByHost.entrySet().stream().filter(e -> e.getKey().startsWith("*")).toList();
    meshVirtualServiceConflicts(found);
    destinationRuleConflicts(found);
    GatewayConflicts.find(sorted.get(IstioKind.GATEWAY), found);
    this.byNamespace = new HashMap<>();
    this.byKey = new HashMap<>();
    for (List<ConfigEntry> list : sorted.values()) {
      for (ConfigEntry entry : list) {
        byNamespace.computeIfAbsent(entry.key().namespace(), k -> new ArrayList<>()).add(entry);
        byKey.put(entry.key(), entry);
      }
    }
    this.conflicts = List.copyOf(found);
  }

  /** The namespace whose Sidecar and policies without a selector apply mesh-wide. */
  public String rootNamespace() {
    return rootNamespace;
  }

  /** Every valid object of a kind, in precedence order. */
  public List<ConfigEntry> list(IstioKind kind) {
    return byKind.get(kind);
  }

  /** Objects of every kind in one namespace. */
  /** The object of {@code key}, if the snapshot holds it. */
  public Optional<ConfigEntry> entry(ConfigKey key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /**
   * The hosts a VirtualService or DestinationRule names, qualified as proxies read them (a short
   * name is a service of the object's namespace); empty for other kinds.
   */
  public List<String> hosts(ConfigEntry entry) {
    if (entry.spec() instanceof VirtualService spec) {
      return qualify(hosts(spec), entry.key().namespace());
    }
    if (entry.spec() instanceof DestinationRule spec) {
      return qualify(java.util.Collections.singletonList(spec.getHost()), entry.key().namespace());
    }
    return List.of();
  }

  /** A host name qualified as a short name in {@code namespace} is read. */
  public String qualify(String host, String namespace) {
    return qualify(List.of(host), namespace).get(0);
  }

  /**
   * Every destination a VirtualService sends to: its HTTP routes' and mirrors', its TCP and TLS
   * routes'. Hosts as written (see {@link #qualify}); null entries left out.
   */
  public static List<io.fabric8.istio.api.api.networking.v1alpha3.Destination> destinations(
      VirtualService spec) {
    List<io.fabric8.istio.api.api.networking.v1alpha3.Destination> destinations = new ArrayList<>();
    for (var route : orEmpty(spec.getHttp())) {
      orEmpty(route.getRoute()).forEach(d -> destinations.add(d.getDestination()));
      destinations.add(route.getMirror());
    }
    orEmpty(spec.getTcp())
        .forEach(r -> orEmpty(r.getRoute()).forEach(d -> destinations.add(d.getDestination())));
    orEmpty(spec.getTls())
        .forEach(r -> orEmpty(r.getRoute()).forEach(d -> destinations.add(d.getDestination())));
    destinations.removeIf(d -> d == null || d.getHost() == null);
    return destinations;
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  public List<ConfigEntry> inNamespace(String namespace) {
    return byNamespace.getOrDefault(namespace, List.of());
  }

  public List<Conflict> conflicts() {
    return conflicts;
  }

  /** Counts of objects per kind, for debugging. */
  public Map<String, Integer> counts() {
    Map<String, Integer> counts = new java.util.LinkedHashMap<>();
    byKind.forEach((kind, list) -> counts.put(kind.kind(), list.size()));
    return counts;
  }

  /**
   * The VirtualService a proxy in {@code namespace} uses for {@code host} on the mesh gateway: one
   * in its own namespace first, then any exported to it, each tier by precedence.
   */
  public Optional<ConfigEntry> virtualService(String host, String namespace) {
    List<ConfigEntry> candidates = virtualServicesByHost.getOrDefault(host, List.of());
    Optional<ConfigEntry> local =
        candidates.stream()
            .filter(
                e ->
                    e.key().namespace().equals(namespace)
                        && boundToMesh(e)
                        && visible(e, namespace))
            .findFirst();
    if (local.isPresent()) {
      return local;
    }
    return candidates.stream().filter(e -> boundToMesh(e) && visible(e, namespace)).findFirst();
  }

  /**
   * VirtualServices bound to a gateway ({@code namespace/name}) and exported to {@code
   * proxyNamespace}, the namespace of the gateway proxy, in precedence order.
   */
  public List<ConfigEntry> virtualServicesForGateway(
      String gatewayNamespace, String gatewayName, String proxyNamespace) {
    // istiod's order: exported only to the proxy's own namespace, then to a list of namespaces
    // that includes it, then to everyone; by precedence within each.
    List<ConfigEntry> private_ = new ArrayList<>();
    List<ConfigEntry> exported = new ArrayList<>();
    List<ConfigEntry> public_ = new ArrayList<>();
    for (ConfigEntry entry : byKind.get(IstioKind.VIRTUAL_SERVICE)) {
      List<String> gateways = entry.spec(VirtualService.class).getGateways();
      if (gateways == null || !visible(entry, proxyNamespace)) {
        continue;
      }
      for (String gateway : gateways) {
        if (GatewayName.resolve(gateway, entry.key().namespace())
            .equals(gatewayNamespace + "/" + gatewayName)) {
          Optional<Set<String>> audience = exportTo(entry).audience();
          if (audience.isEmpty()) {
            public_.add(entry);
          } else if (audience.get().equals(Set.of(proxyNamespace))
              && entry.key().namespace().equals(proxyNamespace)) {
            private_.add(entry);
          } else {
            exported.add(entry);
          }
          break;
        }
      }
    }
    List<ConfigEntry> result = new ArrayList<>(private_);
    result.addAll(exported);
    result.addAll(public_);
    return result;
  }

  /**
   * The DestinationRule a proxy in {@code namespace} uses for a service host: its own namespace's,
   * then the service's namespace's, then the root namespace's, then any exported to it; within a
   * tier an exact host beats a wildcard, then precedence.
   */
  public Optional<ConfigEntry> destinationRule(
      String host, String namespace, String serviceNamespace) {
    List<ConfigEntry> candidates =
        new ArrayList<>(destinationRulesByHost.getOrDefault(host, List.of()));
    for (Map.Entry<String, List<ConfigEntry>> wildcard : wildcardDestinationRules) {
      if (hostMatches(wildcard.getKey(), host)) {
        candidates.addAll(wildcard.getValue());
      }
    }
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    for (String tier : new String[] {namespace, serviceNamespace, rootNamespace}) {
      Optional<ConfigEntry> found =
          candidates.stream()
              .filter(e -> e.key().namespace().equals(tier) && visible(e, namespace))
              .findFirst();
      if (found.isPresent()) {
        return found;
      }
    }
    return candidates.stream().filter(e -> visible(e, namespace)).findFirst();
  }

  /**
   * The subset names of every DestinationRule that may apply to {@code host} for some proxy (exact
   * or wildcard host, any namespace): the subset clusters an endpoint change of that host touches.
   */
  public Set<String> subsetNames(String host) {
    Set<String> names = new java.util.TreeSet<>();
    subsetsOf(host).forEach(subset -> names.add(subset.getName()));
    return names;
  }

  /**
   * The label selectors of the same subsets as {@link #subsetNames}: which endpoints each subset
   * cluster of {@code host} may hold, for some proxy.
   */
  public Set<Map<String, String>> subsetSelectors(String host) {
    Set<Map<String, String>> selectors = new java.util.HashSet<>();
    subsetsOf(host)
        .forEach(
            subset ->
                selectors.add(
                    subset.getLabels() == null ? Map.of() : Map.copyOf(subset.getLabels())));
    return Set.copyOf(selectors);
  }

  private List<Subset> subsetsOf(String host) {
    List<ConfigEntry> candidates =
        new ArrayList<>(destinationRulesByHost.getOrDefault(host, List.of()));
    for (Map.Entry<String, List<ConfigEntry>> wildcard : wildcardDestinationRules) {
      if (hostMatches(wildcard.getKey(), host)) {
        candidates.addAll(wildcard.getValue());
      }
    }
    List<Subset> subsets = new ArrayList<>();
    for (ConfigEntry entry : candidates) {
      DestinationRule rule = entry.spec(DestinationRule.class);
      if (rule.getSubsets() != null) {
        subsets.addAll(rule.getSubsets());
      }
    }
    return subsets;
  }

  /**
   * The Sidecar for a workload: one in its namespace selecting its labels, else its namespace's
   * default (no selector), else the root namespace's default.
   */
  public Optional<ConfigEntry> sidecar(String namespace, Map<String, String> labels) {
    List<ConfigEntry> sidecars = byKind.get(IstioKind.SIDECAR);
    Optional<ConfigEntry> selected =
        sidecars.stream()
            .filter(e -> e.key().namespace().equals(namespace))
            .filter(
                e ->
                    selector(e.spec(Sidecar.class)) != null
                        && matches(labels, selector(e.spec(Sidecar.class))))
            .findFirst();
    if (selected.isPresent()) {
      return selected;
    }
    for (String tier : new String[] {namespace, rootNamespace}) {
      Optional<ConfigEntry> found =
          sidecars.stream()
              .filter(
                  e -> e.key().namespace().equals(tier) && selector(e.spec(Sidecar.class)) == null)
              .findFirst();
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  /**
   * Security policies of a kind (PeerAuthentication, AuthorizationPolicy, RequestAuthentication)
   * that apply to a workload: the root namespace's mesh-wide ones, its namespace's, and those whose
   * selector matches its labels, in its namespace or (as Istio has it) in the root namespace, where
   * a selector matches workloads in every namespace. Policies that name a {@code targetRef(s)} (a
   * Gateway, a Service, a waypoint) instead of a selector are for those, not for sidecars or
   * proxyless workloads, and are left out.
   */
  public List<ConfigEntry> policies(IstioKind kind, String namespace, Map<String, String> labels) {
    List<ConfigEntry> result = new ArrayList<>();
    for (ConfigEntry entry : byKind.get(kind)) {
      String ns = entry.key().namespace();
      if ((!ns.equals(namespace) && !ns.equals(rootNamespace)) || targetsResources(entry)) {
        continue;
      }
      Map<String, String> selector = policySelector(entry);
      if (selector == null || selector.isEmpty() || matches(labels, selector)) {
        result.add(entry);
      }
    }
    return result;
  }

  private static boolean targetsResources(ConfigEntry entry) {
    Object spec = entry.spec();
    if (spec instanceof io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicy ap) {
      return ap.getTargetRef() != null
          || (ap.getTargetRefs() != null && !ap.getTargetRefs().isEmpty());
    }
    if (spec instanceof io.fabric8.istio.api.api.security.v1beta1.RequestAuthentication ra) {
      return ra.getTargetRef() != null
          || (ra.getTargetRefs() != null && !ra.getTargetRefs().isEmpty());
    }
    return false;
  }

  /** A Gateway by namespace and name. */
  public Optional<ConfigEntry> gateway(String namespace, String name) {
    return byKind.get(IstioKind.GATEWAY).stream()
        .filter(e -> e.key().namespace().equals(namespace) && e.key().name().equals(name))
        .findFirst();
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static Map<String, List<ConfigEntry>> byHost(
      List<ConfigEntry> entries, Function<ConfigEntry, Collection<String>> hosts) {
    Map<String, List<ConfigEntry>> map = new HashMap<>();
    for (ConfigEntry entry : entries) {
      for (String host : hosts.apply(entry)) {
        if (host != null) {
          map.computeIfAbsent(host, k -> new ArrayList<>()).add(entry);
        }
      }
    }
    map.replaceAll((k, v) -> List.copyOf(v));
    return map;
  }

  /**
   * Istio reads a host without a dot as a service in the object's own namespace: {@code reviews} in
   * namespace {@code shop} is {@code reviews.shop.svc.<suffix>}.
   */
  private List<String> qualify(List<String> hosts, String namespace) {
    List<String> qualified = new ArrayList<>();
    for (String host : hosts) {
      if (host == null) {
        continue;
      }
      qualified.add(
          host.contains(".") || host.equals("*")
              ? host
              : host + "." + namespace + ".svc." + domainSuffix);
    }
    return qualified;
  }

  private static List<String> hosts(VirtualService spec) {
    return spec.getHosts() == null ? List.of() : spec.getHosts();
  }

  /**
   * Two mesh-bound VirtualServices for one host that a namespace can both see: only one is used.
   */
  private void meshVirtualServiceConflicts(List<Conflict> out) {
    virtualServicesByHost.forEach(
        (host, entries) -> {
          List<ConfigEntry> mesh = entries.stream().filter(ConfigIndex::boundToMesh).toList();
          for (int i = 1; i < mesh.size(); i++) {
            for (int j = 0; j < i; j++) {
              if (overlap(mesh.get(j), mesh.get(i))) {
                out.add(
                    new Conflict(
                        "VirtualService host " + host, mesh.get(j).key(), mesh.get(i).key()));
                break;
              }
            }
          }
        });
  }

  /**
   * Two DestinationRules for one host in one namespace that were not merged (their {@code exportTo}
   * differ): a proxy uses only one of them.
   */
  private void destinationRuleConflicts(List<Conflict> out) {
    destinationRulesByHost.forEach(
        (host, entries) -> {
          for (int i = 1; i < entries.size(); i++) {
            for (int j = 0; j < i; j++) {
              boolean sameSelector =
                  java.util.Objects.equals(selectorOf(entries.get(j)), selectorOf(entries.get(i)));
              if (entries.get(j).key().namespace().equals(entries.get(i).key().namespace())
                  && sameSelector) {
                out.add(
                    new Conflict(
                        "DestinationRule host " + host,
                        entries.get(j).key(),
                        entries.get(i).key()));
                break;
              }
            }
          }
        });
  }

  /**
   * istiod's merge of the DestinationRules of one host in one namespace: rules with the same
   * workload selector (or none) and the same {@code exportTo} become one, the oldest, which gains
   * the others' subsets (a subset name already there keeps the older definition, reported) and,
   * when it has none, the first top-level traffic policy among them. Rules that cannot merge stay
   * apart, in precedence order.
   */
  private static List<ConfigEntry> merged(
      String host, List<ConfigEntry> rules, List<Conflict> out) {
    if (rules.size() < 2) {
      return rules;
    }
    List<ConfigEntry> result = new ArrayList<>();
    for (ConfigEntry rule : rules) {
      int into = -1;
      for (int i = 0; i < result.size() && into < 0; i++) {
        ConfigEntry kept = result.get(i);
        if (kept.key().namespace().equals(rule.key().namespace())
            && java.util.Objects.equals(selectorOf(kept), selectorOf(rule))
            && java.util.Objects.equals(exportToOf(kept), exportToOf(rule))) {
          into = i;
        }
      }
      if (into < 0) {
        result.add(rule);
      } else {
        result.set(into, merge(host, result.get(into), rule, out));
      }
    }
    return List.copyOf(result);
  }

  private static ConfigEntry merge(
      String host, ConfigEntry kept, ConfigEntry rule, List<Conflict> out) {
    com.fasterxml.jackson.databind.node.ObjectNode document = kept.document().deepCopy();
    com.fasterxml.jackson.databind.node.ObjectNode spec =
        (com.fasterxml.jackson.databind.node.ObjectNode) document.path("spec");
    Set<String> names = new java.util.HashSet<>();
    spec.path("subsets").forEach(subset -> names.add(subset.path("name").asText()));
    for (JsonNode subset : rule.document().path("spec").path("subsets")) {
      String name = subset.path("name").asText();
      if (names.add(name)) {
        spec.withArray("subsets").add(subset.deepCopy());
      } else {
        out.add(
            new Conflict(
                "subset " + name + " of DestinationRule host " + host, kept.key(), rule.key()));
      }
    }
    JsonNode traffic = rule.document().path("spec").path("trafficPolicy");
    if (!spec.hasNonNull("trafficPolicy") && traffic.isObject()) {
      spec.set("trafficPolicy", traffic.deepCopy());
    }
    Object typed =
        dev.bosun.crd.IstioJson.json().convertValue(spec, IstioKind.DESTINATION_RULE.specClass());
    return new ConfigEntry(
        kept.key(), typed, kept.created(), kept.labels(), kept.resourceVersion(), document);
  }

  private static Object exportToOf(ConfigEntry entry) {
    List<String> exportTo = entry.spec(DestinationRule.class).getExportTo();
    return exportTo == null || exportTo.isEmpty() ? null : Set.copyOf(exportTo);
  }

  private static Object selectorOf(ConfigEntry entry) {
    var selector = entry.spec(DestinationRule.class).getWorkloadSelector();
    return selector == null ? null : selector.getMatchLabels();
  }

  static boolean boundToMesh(ConfigEntry entry) {
    List<String> gateways = entry.spec(VirtualService.class).getGateways();
    return gateways == null || gateways.isEmpty() || gateways.contains(GatewayName.MESH);
  }

  /**
   * Whether a namespace can see an object, by its spec's {@code exportTo}, else the mesh config's
   * default for its kind.
   */
  boolean visible(ConfigEntry entry, String namespace) {
    return exportTo(entry).visibleFrom(namespace);
  }

  /**
   * Whether some namespace would have to choose between the two by precedence alone. A proxy
   * prefers objects in its own namespace, so for objects in different namespaces only a third
   * namespace that sees both has a real conflict.
   */
  private boolean overlap(ConfigEntry a, ConfigEntry b) {
    Set<String> aNs = audience(a);
    Set<String> bNs = audience(b);
    Set<String> excluded =
        a.key().namespace().equals(b.key().namespace())
            ? Set.of()
            : Set.of(a.key().namespace(), b.key().namespace());
    if (aNs == null && bNs == null) {
      return true;
    }
    Set<String> common = new java.util.HashSet<>(aNs == null ? bNs : aNs);
    if (aNs != null && bNs != null) {
      common.retainAll(bNs);
    }
    common.removeAll(excluded);
    return !common.isEmpty();
  }

  /** The namespaces an object is exported to, or null for everyone. */
  private Set<String> audience(ConfigEntry entry) {
    return exportTo(entry).audience().orElse(null);
  }

  private ExportTo exportTo(ConfigEntry entry) {
    Object spec = entry.spec();
    String owner = entry.key().namespace();
    if (spec instanceof VirtualService vs) {
      return ExportTo.of(owner, vs.getExportTo(), exportDefaults.virtualServices());
    } else if (spec instanceof DestinationRule dr) {
      return ExportTo.of(owner, dr.getExportTo(), exportDefaults.destinationRules());
    } else if (spec instanceof io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry se) {
      return ExportTo.of(owner, se.getExportTo(), exportDefaults.services());
    }
    return ExportTo.of(owner, null);
  }

  /** {@code *.example.com} matches {@code a.example.com}; a plain host only itself. */
  public static boolean hostMatches(String pattern, String host) {
    return HostPattern.matches(pattern, host);
  }

  private static Map<String, String> selector(Sidecar sidecar) {
    return sidecar.getWorkloadSelector() == null ? null : sidecar.getWorkloadSelector().getLabels();
  }

  private static Map<String, String> policySelector(ConfigEntry entry) {
    Object spec = entry.spec();
    io.fabric8.istio.api.api.type.v1beta1.WorkloadSelector selector = null;
    if (spec instanceof io.fabric8.istio.api.api.security.v1beta1.PeerAuthentication pa) {
      selector = pa.getSelector();
    } else if (spec instanceof io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicy ap) {
      selector = ap.getSelector();
    } else if (spec instanceof io.fabric8.istio.api.api.security.v1beta1.RequestAuthentication ra) {
      selector = ra.getSelector();
    }
    return selector == null ? null : selector.getMatchLabels();
  }

  private static boolean matches(Map<String, String> labels, Map<String, String> selector) {
    return LabelSelector.selects(selector, labels);
  }
}
