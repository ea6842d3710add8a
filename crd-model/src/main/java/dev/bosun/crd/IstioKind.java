package dev.bosun.crd;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The Istio kinds Bosun understands, with the Kubernetes names they are served under. Every served
 * version of a kind shares one spec type, so a document of any version maps to the same model.
 */
public enum IstioKind {
  VIRTUAL_SERVICE(
      Group.NETWORKING,
      "VirtualService",
      "virtualservices",
      List.of("vs"),
      io.fabric8.istio.api.api.networking.v1alpha3.VirtualService.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.VirtualService.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.VirtualService.class),
          version("v1", io.fabric8.istio.api.networking.v1.VirtualService.class)),
      List.of(
          new PrinterColumn(
              "Gateways",
              "string",
              ".spec.gateways",
              "The names of gateways and sidecars that should apply these routes"),
          new PrinterColumn(
              "Hosts",
              "string",
              ".spec.hosts",
              "The destination hosts to which traffic is being sent"))),
  DESTINATION_RULE(
      Group.NETWORKING,
      "DestinationRule",
      "destinationrules",
      List.of("dr"),
      io.fabric8.istio.api.api.networking.v1alpha3.DestinationRule.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.DestinationRule.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.DestinationRule.class),
          version("v1", io.fabric8.istio.api.networking.v1.DestinationRule.class)),
      List.of(
          new PrinterColumn(
              "Host", "string", ".spec.host", "The name of a service from the service registry"))),
  GATEWAY(
      Group.NETWORKING,
      "Gateway",
      "gateways",
      List.of("gw"),
      io.fabric8.istio.api.api.networking.v1alpha3.Gateway.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.Gateway.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.Gateway.class),
          version("v1", io.fabric8.istio.api.networking.v1.Gateway.class)),
      List.of()),
  SERVICE_ENTRY(
      Group.NETWORKING,
      "ServiceEntry",
      "serviceentries",
      List.of("se"),
      io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.ServiceEntry.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.ServiceEntry.class),
          version("v1", io.fabric8.istio.api.networking.v1.ServiceEntry.class)),
      List.of(
          new PrinterColumn(
              "Hosts", "string", ".spec.hosts", "The hosts associated with the ServiceEntry"),
          new PrinterColumn(
              "Location",
              "string",
              ".spec.location",
              "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"),
          new PrinterColumn(
              "Resolution",
              "string",
              ".spec.resolution",
              "Service resolution mode for the hosts (NONE, STATIC, or DNS)"))),
  SIDECAR(
      Group.NETWORKING,
      "Sidecar",
      "sidecars",
      List.of(),
      io.fabric8.istio.api.api.networking.v1alpha3.Sidecar.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.Sidecar.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.Sidecar.class),
          version("v1", io.fabric8.istio.api.networking.v1.Sidecar.class)),
      List.of()),
  WORKLOAD_ENTRY(
      Group.NETWORKING,
      "WorkloadEntry",
      "workloadentries",
      List.of("we"),
      io.fabric8.istio.api.api.networking.v1alpha3.WorkloadEntry.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.WorkloadEntry.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.WorkloadEntry.class),
          version("v1", io.fabric8.istio.api.networking.v1.WorkloadEntry.class)),
      List.of(
          new PrinterColumn(
              "Address",
              "string",
              ".spec.address",
              "Address associated with the network endpoint."))),
  PEER_AUTHENTICATION(
      Group.SECURITY,
      "PeerAuthentication",
      "peerauthentications",
      List.of("pa"),
      io.fabric8.istio.api.api.security.v1beta1.PeerAuthentication.class,
      List.of(
          version("v1beta1", io.fabric8.istio.api.security.v1beta1.PeerAuthentication.class),
          version("v1", io.fabric8.istio.api.security.v1.PeerAuthentication.class)),
      List.of(
          new PrinterColumn(
              "Mode",
              "string",
              ".spec.mtls.mode",
              "Defines the mTLS mode used for peer authentication."))),
  AUTHORIZATION_POLICY(
      Group.SECURITY,
      "AuthorizationPolicy",
      "authorizationpolicies",
      List.of("ap"),
      io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicy.class,
      List.of(
          version("v1beta1", io.fabric8.istio.api.security.v1beta1.AuthorizationPolicy.class),
          version("v1", io.fabric8.istio.api.security.v1.AuthorizationPolicy.class)),
      List.of(new PrinterColumn("Action", "string", ".spec.action", "The operation to take."))),
  REQUEST_AUTHENTICATION(
      Group.SECURITY,
      "RequestAuthentication",
      "requestauthentications",
      List.of("ra"),
      io.fabric8.istio.api.api.security.v1beta1.RequestAuthentication.class,
      List.of(
          version("v1beta1", io.fabric8.istio.api.security.v1beta1.RequestAuthentication.class),
          version("v1", io.fabric8.istio.api.security.v1.RequestAuthentication.class)),
      List.of()),
  ENVOY_FILTER(
      Group.NETWORKING,
      "EnvoyFilter",
      "envoyfilters",
      List.of(),
      io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilter.class,
      List.of(version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter.class)),
      List.of()),
  PROXY_CONFIG(
      Group.NETWORKING,
      "ProxyConfig",
      "proxyconfigs",
      List.of(),
      io.fabric8.istio.api.api.networking.v1beta1.ProxyConfig.class,
      List.of(version("v1beta1", io.fabric8.istio.api.networking.v1beta1.ProxyConfig.class)),
      List.of()),
  WORKLOAD_GROUP(
      Group.NETWORKING,
      "WorkloadGroup",
      "workloadgroups",
      List.of("wg"),
      io.fabric8.istio.api.api.networking.v1alpha3.WorkloadGroup.class,
      List.of(
          version("v1alpha3", io.fabric8.istio.api.networking.v1alpha3.WorkloadGroup.class),
          version("v1beta1", io.fabric8.istio.api.networking.v1beta1.WorkloadGroup.class),
          version("v1", io.fabric8.istio.api.networking.v1.WorkloadGroup.class)),
      List.of()),
  TELEMETRY(
      Group.TELEMETRY,
      "Telemetry",
      "telemetries",
      List.of("telemetry"),
      io.fabric8.istio.api.api.telemetry.v1alpha1.Telemetry.class,
      List.of(
          version("v1alpha1", io.fabric8.istio.api.telemetry.v1alpha1.Telemetry.class),
          version("v1", io.fabric8.istio.api.telemetry.v1.Telemetry.class)),
      List.of()),
  WASM_PLUGIN(
      Group.EXTENSIONS,
      "WasmPlugin",
      "wasmplugins",
      List.of(),
      io.fabric8.istio.api.api.extensions.v1alpha1.WasmPlugin.class,
      List.of(version("v1alpha1", io.fabric8.istio.api.extensions.v1alpha1.WasmPlugin.class)),
      List.of());

  /** The Istio API groups, with the CRD category each kind is listed under. */
  public enum Group {
    NETWORKING("networking.istio.io", "networking-istio-io", "v1"),
    SECURITY("security.istio.io", "security-istio-io", "v1"),
    // Istio's CRDs serve Telemetry as v1 but still store it as v1alpha1.
    TELEMETRY("telemetry.istio.io", "telemetry-istio-io", "v1alpha1"),
    EXTENSIONS("extensions.istio.io", "extensions-istio-io", "v1alpha1");

    private final String name;
    private final String category;
    private final String storageVersion;

    Group(String name, String category, String storageVersion) {
      this.name = name;
      this.category = category;
      this.storageVersion = storageVersion;
    }

    /** The API group, e.g. {@code networking.istio.io}. */
    public String groupName() {
      return name;
    }

    /** The group's {@code kubectl get} category, besides {@code istio-io}. */
    public String category() {
      return category;
    }

    /**
     * The version the API server stores the group's objects in, as Istio's CRDs choose it, where a
     * kind serves it ({@link IstioKind#storageVersion}).
     */
    public String storageVersion() {
      return storageVersion;
    }
  }

  /** One served version of a kind and the fabric8 resource class it deserialises to. */
  public record Version(String name, Class<? extends HasMetadata> resourceClass) {
    public Version {
      requireNonNull(name, "name");
      requireNonNull(resourceClass, "resourceClass");
    }
  }

  /** An additional printer column shown by {@code kubectl get}, as Istio declares it. */
  public record PrinterColumn(String name, String type, String jsonPath, String description) {
    /** The creation-time column every kind shows; last unless a kind lists it elsewhere. */
    public static final PrinterColumn AGE =
        new PrinterColumn(
            "Age",
            "date",
            ".metadata.creationTimestamp",
            "CreationTimestamp is a timestamp representing the server time when this object was"
                + " created. It is not guaranteed to be set in happens-before order across separate"
                + " operations. Clients may not set this value. It is represented in RFC3339 form"
                + " and is in UTC. Populated by the system. Read-only. Null for lists. More info:"
                + " https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata");
  }

  private final Group group;
  private final String kind;
  private final String plural;
  private final List<String> shortNames;
  private final Class<?> specClass;
  private final List<Version> versions;
  private final List<PrinterColumn> printerColumns;

  IstioKind(
      Group group,
      String kind,
      String plural,
      List<String> shortNames,
      Class<?> specClass,
      List<Version> versions,
      List<PrinterColumn> printerColumns) {
    this.group = group;
    this.kind = kind;
    this.plural = plural;
    this.shortNames = shortNames;
    this.specClass = specClass;
    this.versions = versions;
    this.printerColumns = printerColumns;
  }

  private static Version version(String name, Class<? extends HasMetadata> resourceClass) {
    return new Version(name, resourceClass);
  }

  /** The API group this kind belongs to. */
  public Group group() {
    return group;
  }

  /** The kind as written in YAML, e.g. {@code VirtualService}. */
  public String kind() {
    return kind;
  }

  /** The lower-case plural used in API paths, e.g. {@code virtualservices}. */
  public String plural() {
    return plural;
  }

  /** The lower-case singular, e.g. {@code virtualservice}. */
  public String singular() {
    return kind.toLowerCase(java.util.Locale.ROOT);
  }

  /** Istio's short names for {@code kubectl}, possibly empty. */
  public List<String> shortNames() {
    return shortNames;
  }

  /** The CRD name, e.g. {@code virtualservices.networking.istio.io}. */
  public String crdName() {
    return plural + "." + group.groupName();
  }

  /** The spec type shared by every served version. */
  public Class<?> specClass() {
    return specClass;
  }

  /** The served versions, oldest first. */
  public List<Version> versions() {
    return versions;
  }

  /** The printer columns shown besides the name, Age included. */
  public List<PrinterColumn> printerColumns() {
    if (printerColumns.contains(PrinterColumn.AGE)) {
      return printerColumns;
    }
    List<PrinterColumn> columns = new java.util.ArrayList<>(printerColumns);
    columns.add(PrinterColumn.AGE);
    return List.copyOf(columns);
  }

  /** Whether the API server must refuse an object of this kind without a spec (as Istio's CRDs). */
  public boolean requiresSpec() {
    return this == SERVICE_ENTRY
        || this == WORKLOAD_ENTRY
        || this == WORKLOAD_GROUP
        || this == WASM_PLUGIN;
  }

  /**
   * The version the API server stores objects of this kind in, as Istio's CRDs choose it (so a
   * cluster keeps its stored objects when it switches CRDs): the group's, else the kind's newest.
   */
  public String storageVersion() {
    String grouped = group.storageVersion();
    return versions.stream().anyMatch(v -> v.name().equals(grouped)) ? grouped : newestVersion();
  }

  /** The newest served version, the one Bosun reads objects of this kind through. */
  public String newestVersion() {
    return versions.get(versions.size() - 1).name();
  }

  /**
   * Whether Bosun turns objects of this kind into proxy configuration. Kinds it only accepts
   * (validated, stored, listed on {@code /debug/configz}) trigger no push.
   */
  public boolean applied() {
    return switch (this) {
      case ENVOY_FILTER, PROXY_CONFIG, WORKLOAD_GROUP, TELEMETRY, WASM_PLUGIN -> false;
      default -> true;
    };
  }

  /**
   * The {@code apiVersion} for one of this kind's versions, e.g. {@code networking.istio.io/v1}.
   */
  public String apiVersion(String version) {
    return group.groupName() + "/" + version;
  }

  /** The served version named by an {@code apiVersion}, if this kind serves it. */
  public Optional<Version> version(String apiVersion) {
    if (apiVersion == null) {
      return Optional.empty();
    }
    int slash = apiVersion.indexOf('/');
    if (slash < 0 || !apiVersion.substring(0, slash).equals(group.groupName())) {
      return Optional.empty();
    }
    String name = apiVersion.substring(slash + 1);
    return versions.stream().filter(v -> v.name().equals(name)).findFirst();
  }

  /** Whether an {@code apiVersion} belongs to this kind's API group. */
  public boolean inGroup(String apiVersion) {
    return apiVersion != null && apiVersion.startsWith(group.groupName() + "/");
  }

  /** The kind named {@code kind} in the group of {@code apiVersion}, whatever the version. */
  public static Optional<IstioKind> of(String apiVersion, String kind) {
    return Arrays.stream(values())
        .filter(k -> k.kind.equals(kind) && k.inGroup(apiVersion))
        .findFirst();
  }

  /** Whether an {@code apiVersion} belongs to one of the Istio API groups Bosun owns. */
  public static boolean isIstioGroup(String apiVersion) {
    return Arrays.stream(Group.values())
        .anyMatch(g -> apiVersion != null && apiVersion.startsWith(g.groupName() + "/"));
  }
}
