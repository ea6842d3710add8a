package dev.bosun.controlplane.meshconfig;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.controlplane.meshconfig.MeshConfig.ExportDefaults;
import dev.bosun.controlplane.meshconfig.MeshConfig.OutboundTrafficPolicy;
import dev.bosun.controlplane.meshconfig.MeshConfig.ProxyDefaults;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.validation.Durations;
import dev.bosun.crd.validation.MeshConfigRules;
import dev.bosun.crd.validation.Violation;
import io.fabric8.istio.api.api.networking.v1alpha3.LocalityLoadBalancerSetting;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads MeshConfig YAML as istiod does: every field given replaces Istio's default, except {@code
 * defaultConfig}, which is merged field by field over the default ProxyConfig (and its {@code
 * proxyMetadata} key by key). The fields Bosun honours are checked, and all problems are reported
 * at once. Fields Bosun does not act on are kept in the document and named in the warnings. Pure:
 * no logging, no I/O.
 */
public final class MeshConfigParser {
  private static final Duration CONNECT_TIMEOUT_MIN = Duration.ofMillis(1);
  private static final Duration CONNECT_TIMEOUT_MAX = Duration.ofHours(1);
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern HOST_PORT = Pattern.compile("[^\\s:/]+:([0-9]{1,5})");

  private MeshConfigParser() {}

  /**
   * A parsed config and what the reader should know about it (fields kept without effect).
   *
   * @param given the fields the YAML itself set, before defaults
   */
  public record Result(MeshConfig config, List<String> warnings, ObjectNode given) {
    public Result {
      warnings = List.copyOf(warnings);
      given = given.deepCopy();
    }

    @Override
    public ObjectNode given() {
      return given.deepCopy();
    }
  }

  /** Istio's defaults as a document (the part of {@code DefaultMeshConfig} Bosun reads). */
  static ObjectNode defaultDocument() {
    ObjectNode mesh = JsonNodeFactory.instance.objectNode();
    mesh.put("rootNamespace", "istio-system");
    mesh.put("trustDomain", "cluster.local");
    mesh.putObject("outboundTrafficPolicy").put("mode", "ALLOW_ANY");
    mesh.put("enableAutoMtls", true);
    mesh.put("connectTimeout", "10s");
    mesh.putObject("localityLbSetting").put("enabled", true);
    mesh.putArray("defaultServiceExportTo").add("*");
    mesh.putArray("defaultVirtualServiceExportTo").add("*");
    mesh.putArray("defaultDestinationRuleExportTo").add("*");
    mesh.put("ingressService", "istio-ingressgateway");
    mesh.put("ingressClass", "istio");
    ObjectNode proxy = mesh.putObject("defaultConfig");
    proxy.put("configPath", "./etc/istio/proxy");
    proxy.put("binaryPath", "/usr/local/bin/envoy");
    proxy.put("serviceCluster", "istio-proxy");
    proxy.put("drainDuration", "45s");
    proxy.put("terminationDrainDuration", "5s");
    proxy.put("proxyAdminPort", 15000);
    proxy.put("controlPlaneAuthPolicy", "MUTUAL_TLS");
    proxy.put("discoveryAddress", "istiod.istio-system.svc:15012");
    proxy.put("statNameLength", 189);
    proxy.put("statusPort", 15020);
    return mesh;
  }

  static MeshConfig defaults() {
    try {
      return typed(defaultDocument(), new ArrayList<>());
    } catch (MeshConfigException e) {
      throw new IllegalStateException("the built-in defaults are invalid: " + e.getMessage(), e);
    }
  }

  /** The config {@code yaml} describes; empty or blank YAML is Istio's defaults. */
  public static Result parse(String yaml) throws MeshConfigException {
    JsonNode given;
    try {
      given = yaml == null || yaml.isBlank() ? null : IstioJson.yaml().readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new MeshConfigException(
          List.of("mesh: not valid YAML: " + e.getOriginalMessage().replace('\n', ' ')));
    }
    if (given == null || given.isNull() || given.isMissingNode()) {
      given = JsonNodeFactory.instance.objectNode();
    }
    if (!given.isObject()) {
      throw new MeshConfigException(
          List.of(
              "mesh: a YAML "
                  + given.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                  + " (expected: a mapping of MeshConfig fields)"));
    }
    List<String> warnings = new ArrayList<>();
    ObjectNode applied = apply((ObjectNode) given, warnings);
    return new Result(typed(applied, warnings), warnings, (ObjectNode) given);
  }

  /** The defaults with {@code given} applied over them; names the fields kept without effect. */
  private static ObjectNode apply(ObjectNode given, List<String> warnings) {
    ObjectNode applied = defaultDocument();
    given
        .fields()
        .forEachRemaining(
            field -> {
              String name = field.getKey();
              JsonNode value = field.getValue();
              if (!MeshConfigFields.MESH_CONFIG.contains(name)) {
                warnings.add(name + ": not a MeshConfig field (kept, no effect)");
              } else if (!MeshConfigFields.HONOURED.contains(name)) {
                warnings.add(name + ": not honoured by Bosun (kept, no effect)");
              }
              if (value.isNull()) {
                return; // as if not given: the default stays
              }
              if (name.equals("defaultConfig") && value.isObject()) {
                applied.set(name, mergeProxyConfig(applied.path(name), value, warnings));
              } else {
                applied.set(name, value.deepCopy());
              }
            });
    for (String name : List.of("ingressService", "ingressClass")) {
      if (given.hasNonNull(name)) {
        warnings.add(
            name
                + ": "
                + given.get(name)
                + " has no effect: Bosun does not translate Kubernetes Ingress");
      }
    }
    JsonNode providers = given.path("extensionProviders");
    for (int i = 0; i < providers.size(); i++) {
      JsonNode provider = providers.get(i);
      List<String> kinds = new ArrayList<>();
      provider.fieldNames().forEachRemaining(kinds::add);
      kinds.remove("name");
      if (!kinds.isEmpty()
          && !kinds.contains("envoyExtAuthzHttp")
          && !kinds.contains("envoyExtAuthzGrpc")) {
        warnings.add(
            "extensionProviders["
                + i
                + "] ("
                + provider.path("name").asText("")
                + "): "
                + String.join(", ", kinds)
                + " providers are not honoured by Bosun (kept, no effect; only ext_authz ones are)");
      }
    }
    JsonNode outbound = given.path("outboundTrafficPolicy");
    if (outbound.isObject()) {
      outbound
          .fieldNames()
          .forEachRemaining(
              name -> {
                if (!MeshConfigFields.OUTBOUND_TRAFFIC_POLICY.contains(name)) {
                  warnings.add(
                      "outboundTrafficPolicy." + name + ": not a field of it (kept, no effect)");
                } else if (!name.equals("mode")) {
                  warnings.add(
                      "outboundTrafficPolicy."
                          + name
                          + ": not honoured by Bosun (kept, no effect)");
                }
              });
    }
    return applied;
  }

  /** ProxyConfig fields replace the defaults' one by one; {@code proxyMetadata} key by key. */
  private static ObjectNode mergeProxyConfig(
      JsonNode defaults, JsonNode given, List<String> warnings) {
    ObjectNode merged =
        defaults.isObject()
            ? (ObjectNode) defaults.deepCopy()
            : JsonNodeFactory.instance.objectNode();
    given
        .fields()
        .forEachRemaining(
            field -> {
              String name = field.getKey();
              if (!MeshConfigFields.PROXY_CONFIG.contains(name)) {
                warnings.add(
                    "defaultConfig." + name + ": not a ProxyConfig field (kept, passed on)");
              }
              JsonNode value = field.getValue();
              if (name.equals("proxyMetadata")
                  && value.isObject()
                  && merged.path(name).isObject()) {
                ((ObjectNode) merged.get(name)).setAll((ObjectNode) value.deepCopy());
              } else {
                merged.set(name, value.deepCopy());
              }
            });
    return merged;
  }

  /** The typed config of an applied document, or every problem in it. */
  private static MeshConfig typed(ObjectNode mesh, List<String> warnings)
      throws MeshConfigException {
    List<String> problems = new ArrayList<>();
    String rootNamespace = text(mesh, "rootNamespace", problems);
    if (rootNamespace != null && !DNS_LABEL.matcher(rootNamespace).matches()) {
      problems.add("rootNamespace: " + mesh.get("rootNamespace") + " (expected: a namespace name)");
    }
    String trustDomain = text(mesh, "trustDomain", problems);
    if (trustDomain != null && !TRUST_DOMAIN.matcher(trustDomain).matches()) {
      problems.add(
          "trustDomain: "
              + mesh.get("trustDomain")
              + " (expected: a name such as cluster.local: letters, digits, '.', '-', '_')");
    }
    OutboundTrafficPolicy outbound =
        outbound(mesh.get("outboundTrafficPolicy"), problems, warnings);
    Boolean autoMtls = bool(mesh, "enableAutoMtls", problems);
    Duration connectTimeout = connectTimeout(mesh.get("connectTimeout"), problems);
    LocalityLoadBalancerSetting locality = locality(mesh.get("localityLbSetting"), problems);
    ExportDefaults exportTo =
        new ExportDefaults(
            exportTo(mesh, "defaultServiceExportTo", problems),
            exportTo(mesh, "defaultVirtualServiceExportTo", problems),
            exportTo(mesh, "defaultDestinationRuleExportTo", problems));
    String ingressService = text(mesh, "ingressService", problems);
    String ingressClass = text(mesh, "ingressClass", problems);
    ProxyDefaults proxy = proxyDefaults(mesh.get("defaultConfig"), problems);
    if (!problems.isEmpty()) {
      throw new MeshConfigException(problems);
    }
    return new MeshConfig(
        rootNamespace,
        trustDomain,
        outbound,
        autoMtls,
        connectTimeout,
        locality,
        exportTo,
        ingressService,
        ingressClass,
        proxy,
        mesh);
  }

  private static OutboundTrafficPolicy outbound(
      JsonNode policy, List<String> problems, List<String> warnings) {
    if (!policy.isObject()) {
      problems.add(
          "outboundTrafficPolicy: " + policy + " (expected: a mapping such as {mode: ALLOW_ANY})");
      return null;
    }
    JsonNode mode = policy.path("mode");
    if (mode.isMissingNode() || mode.isNull()) {
      warnings.add("outboundTrafficPolicy.mode: not set; ALLOW_ANY applies");
      return OutboundTrafficPolicy.ALLOW_ANY;
    }
    switch (mode.isTextual() ? mode.asText() : "") {
      case "ALLOW_ANY":
        return OutboundTrafficPolicy.ALLOW_ANY;
      case "REGISTRY_ONLY":
        return OutboundTrafficPolicy.REGISTRY_ONLY;
      case "ALLOW_ANY_DYNAMIC_DNS":
        warnings.add(
            "outboundTrafficPolicy.mode: ALLOW_ANY_DYNAMIC_DNS is treated as ALLOW_ANY (no"
                + " dynamic forward proxy yet)");
        return OutboundTrafficPolicy.ALLOW_ANY;
      default:
        problems.add(
            "outboundTrafficPolicy.mode: " + mode + " (expected: ALLOW_ANY or REGISTRY_ONLY)");
        return null;
    }
  }

  private static Duration connectTimeout(JsonNode value, List<String> problems) {
    String expected = "a duration from 1ms to 1h, such as \"10s\" or \"500ms\"";
    if (!value.isTextual()) {
      problems.add("connectTimeout: " + value + " (expected: " + expected + ")");
      return null;
    }
    Duration timeout = Durations.parse(value.asText()).orElse(null);
    if (timeout == null
        || timeout.compareTo(CONNECT_TIMEOUT_MIN) < 0
        || timeout.compareTo(CONNECT_TIMEOUT_MAX) > 0) {
      problems.add("connectTimeout: " + value + " (expected: " + expected + ")");
      return null;
    }
    return timeout;
  }

  private static LocalityLoadBalancerSetting locality(JsonNode value, List<String> problems) {
    if (!value.isObject()) {
      problems.add(
          "localityLbSetting: " + value + " (expected: a mapping such as {enabled: true})");
      return null;
    }
    bool((ObjectNode) value, "enabled", "localityLbSetting.", problems, true);
    List<Violation> violations = MeshConfigRules.localityLbSetting(value);
    violations.forEach(v -> problems.add(v.toString()));
    try {
      return IstioJson.json().treeToValue(value, LocalityLoadBalancerSetting.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      problems.add(
          "localityLbSetting: "
              + e.getMessage().lines().findFirst().orElse("")
              + " (expected: Istio's LocalityLoadBalancerSetting)");
      return null;
    }
  }

  private static List<String> exportTo(ObjectNode mesh, String field, List<String> problems) {
    JsonNode value = mesh.get(field);
    List<String> values = new ArrayList<>();
    if (!value.isArray()) {
      problems.add(field + ": " + value + " (expected: a list such as [\"*\"] or [\".\"])");
      return values;
    }
    for (int i = 0; i < value.size(); i++) {
      if (!value.get(i).isTextual()) {
        problems.add(
            field
                + "["
                + i
                + "]: "
                + value.get(i)
                + " (expected: \".\", \"*\", \"~\" or a"
                + " namespace name)");
      } else {
        values.add(value.get(i).asText());
      }
    }
    MeshConfigRules.exportTo(field, value).forEach(v -> problems.add(v.toString()));
    return values;
  }

  private static ProxyDefaults proxyDefaults(JsonNode value, List<String> problems) {
    if (!value.isObject()) {
      problems.add("defaultConfig: " + value + " (expected: a mapping of ProxyConfig fields)");
      return null;
    }
    ObjectNode proxy = (ObjectNode) value;
    String address = text(proxy, "discoveryAddress", "defaultConfig.", problems);
    if (address != null) {
      var match = HOST_PORT.matcher(address);
      if (!match.matches() || !validPort(match.group(1))) {
        problems.add(
            "defaultConfig.discoveryAddress: "
                + proxy.get("discoveryAddress")
                + " (expected: host:port such as istiod.istio-system.svc:15012)");
      }
    }
    Map<String, String> metadata = new TreeMap<>();
    JsonNode given = proxy.path("proxyMetadata");
    if (given.isObject()) {
      given
          .fields()
          .forEachRemaining(
              entry -> {
                if (entry.getValue().isTextual()) {
                  metadata.put(entry.getKey(), entry.getValue().asText());
                } else {
                  problems.add(
                      "defaultConfig.proxyMetadata["
                          + entry.getKey()
                          + "]: "
                          + entry.getValue()
                          + " (expected: a string; quote numbers and booleans)");
                }
              });
    } else if (!given.isMissingNode() && !given.isNull()) {
      problems.add(
          "defaultConfig.proxyMetadata: " + given + " (expected: a mapping of names to strings)");
    }
    Boolean hold =
        bool(proxy, "holdApplicationUntilProxyStarts", "defaultConfig.", problems, false);
    if (address == null || !problems.isEmpty()) {
      return null;
    }
    return new ProxyDefaults(address, metadata, hold, proxy);
  }

  private static boolean validPort(String digits) {
    int port = Integer.parseInt(digits);
    return port >= 1 && port <= 65535;
  }

  private static String text(ObjectNode node, String field, List<String> problems) {
    return text(node, field, "", problems);
  }

  private static String text(ObjectNode node, String field, String prefix, List<String> problems) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      problems.add(prefix + field + ": " + value + " (expected: a string)");
      return null;
    }
    return value.asText();
  }

  private static Boolean bool(ObjectNode node, String field, List<String> problems) {
    JsonNode value = node.get(field);
    if (value == null || !value.isBoolean()) {
      problems.add(field + ": " + value + " (expected: true or false)");
      return null;
    }
    return value.asBoolean();
  }

  /** An optional boolean: absent is {@code absent}. */
  private static Boolean bool(
      ObjectNode node, String field, String prefix, List<String> problems, boolean absent) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return absent;
    }
    if (!value.isBoolean()) {
      problems.add(prefix + field + ": " + value + " (expected: true or false)");
      return null;
    }
    return value.asBoolean();
  }
}
