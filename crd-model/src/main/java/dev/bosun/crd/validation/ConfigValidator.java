package dev.bosun.crd.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.schema.SchemaModel;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Validates Istio documents the way istiod's admission webhook does, and more strictly where the
 * Java model would otherwise lose a typo: every problem of a document is reported with the object,
 * the field path, the bad value and what was expected. Documents of kinds Bosun does not own are
 * passed over.
 */
public final class ConfigValidator {
  private static final Set<String> TOP_LEVEL =
      Set.of("apiVersion", "kind", "metadata", "spec", "status");

  private static final Map<IstioKind, SpecValidator> RULES = new EnumMap<>(IstioKind.class);

  static {
    RULES.put(IstioKind.VIRTUAL_SERVICE, new VirtualServiceValidator());
    RULES.put(IstioKind.DESTINATION_RULE, new DestinationRuleValidator());
    RULES.put(IstioKind.GATEWAY, new GatewayValidator());
    RULES.put(IstioKind.SERVICE_ENTRY, new ServiceEntryValidator());
    RULES.put(IstioKind.SIDECAR, new SidecarValidator());
    RULES.put(IstioKind.WORKLOAD_ENTRY, new WorkloadEntryValidator());
    RULES.put(IstioKind.PEER_AUTHENTICATION, new PeerAuthenticationValidator());
    RULES.put(IstioKind.AUTHORIZATION_POLICY, new AuthorizationPolicyValidator());
    RULES.put(IstioKind.REQUEST_AUTHENTICATION, new RequestAuthenticationValidator());
    RULES.put(IstioKind.ENVOY_FILTER, new EnvoyFilterValidator());
    RULES.put(IstioKind.PROXY_CONFIG, new ProxyConfigValidator());
    RULES.put(IstioKind.WORKLOAD_GROUP, new WorkloadGroupValidator());
    RULES.put(IstioKind.TELEMETRY, new TelemetryValidator());
    RULES.put(IstioKind.WASM_PLUGIN, new WasmPluginValidator());
  }

  private ConfigValidator() {}

  /** Validates one document (a whole object: apiVersion, kind, metadata, spec). */
  public static ValidationResult validate(JsonNode document) {
    if (document == null || !document.isObject()) {
      ObjectRef ref = new ObjectRef(null, null, null);
      Problems problems = new Problems();
      problems.add(
          FieldPath.root(""),
          "document is "
              + describe(document)
              + " (expected: a mapping with apiVersion, kind and metadata)");
      return new ValidationResult(ref, Optional.empty(), Optional.empty(), problems.violations());
    }
    String apiVersion = text(document.get("apiVersion"));
    String kindName = text(document.get("kind"));
    JsonNode metadata = document.get("metadata");
    ObjectRef ref =
        new ObjectRef(
            kindName,
            metadata == null ? null : text(metadata.get("namespace")),
            metadata == null ? null : text(metadata.get("name")));
    Problems problems = new Problems();
    if (apiVersion == null || kindName == null) {
      if (apiVersion == null) {
        problems.missing(
            FieldPath.root("apiVersion"), "an apiVersion such as networking.istio.io/v1");
      }
      if (kindName == null) {
        problems.missing(FieldPath.root("kind"), "a kind such as VirtualService");
      }
      return new ValidationResult(ref, Optional.empty(), Optional.empty(), problems.violations());
    }
    Optional<IstioKind> found = IstioKind.of(apiVersion, kindName);
    if (found.isEmpty()) {
      return ValidationResult.notOwned(ref);
    }
    IstioKind kind = found.get();
    Optional<IstioKind.Version> version = kind.version(apiVersion);
    if (version.isEmpty()) {
      problems.invalid(
          FieldPath.root("apiVersion"),
          apiVersion,
          "unsupported version",
          kind.versions().stream()
              .map(v -> kind.apiVersion(v.name()))
              .collect(Collectors.joining(", ")));
      return new ValidationResult(ref, found, Optional.empty(), problems.violations());
    }
    for (Iterator<String> it = document.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!TOP_LEVEL.contains(field)) {
        problems.add(
            FieldPath.root(field),
            "unknown field (expected one of: apiVersion, kind, metadata, spec, status)");
      }
    }
    MetadataRules.validate(DocNode.of(metadata, FieldPath.root("metadata")), problems);
    DocNode spec = DocNode.of(document.get("spec"), FieldPath.root("spec"));
    if (!spec.isSet() && kind.requiresSpec()) {
      problems.missing(spec.path(), "a spec");
    }
    int structural = problems.violations().size();
    SchemaValidator.validate(spec.value(), SchemaModel.spec(kind), spec.path(), problems);
    boolean structurallySound = problems.violations().size() == structural;
    if (spec.isSet() && spec.value().isObject()) {
      RULES.get(kind).validate(spec, ref.namespace(), problems);
    }
    Optional<HasMetadata> resource = Optional.empty();
    try {
      resource = Optional.of(IstioJson.toResource(version.get(), document));
    } catch (IllegalArgumentException e) {
      if (structurallySound) {
        problems.add(FieldPath.root(""), "cannot be read: " + e.getMessage());
      }
    }
    return new ValidationResult(ref, found, resource, problems.violations());
  }

  /** Validates a typed object, e.g. one an informer delivered. */
  public static ValidationResult validate(HasMetadata resource) {
    return validate(IstioJson.toTree(resource));
  }

  /** Convenience for callers that only need the messages. */
  public static List<String> messages(JsonNode document) {
    return validate(document).messages();
  }

  private static String text(JsonNode node) {
    return node != null && node.isTextual() ? node.asText() : null;
  }

  private static String describe(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return "empty";
    }
    return "a " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }
}
