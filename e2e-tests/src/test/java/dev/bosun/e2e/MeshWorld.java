package dev.bosun.e2e;

import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.BosunCommand;
import dev.bosun.controlplane.source.KubernetesSource;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.xds.XdsNameResolverProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The world an end-to-end test runs in: a Kubernetes API server (fabric8's mock in CRUD mode, or a
 * real one named by {@code -Dbosun.e2e.kubeconfig}), Bosun started as users start it ({@code bosun
 * serve --kubeconfig ...}, in-process through the same entry point), backend gRPC servers
 * registered in the mesh, and grpc-java xDS clients with their own node identities.
 *
 * <p>Every world has fresh namespaces, so that nothing a run or an earlier test left behind on a
 * real API server (which never finishes deleting namespaces) reaches this one: {@link #namespace}
 * for the workloads and {@link #caNamespace} for Bosun itself (its CA Secrets, leases, and its mesh
 * ConfigMap {@code istio}, which makes it the root namespace too). Tests write their YAML and names
 * for namespace {@code e2e}; {@link #local} and {@link #apply} put them in this world's.
 *
 * <p>Backends are Pods with EndpointSlices on the mock. A real API server refuses loopback
 * addresses in EndpointSlices, so there (or with {@code -Dbosun.e2e.backends=workload-entries} on
 * the mock) a service is a ServiceEntry for its cluster host name and each backend a WorkloadEntry
 * at the loopback address, as VMs join a mesh.
 */
final class MeshWorld implements AutoCloseable {
  /** The namespace the tests' YAML and names are written for. */
  static final String WRITTEN_NAMESPACE = "e2e";

  static final String BACKEND_ADDRESS = System.getProperty("bosun.e2e.backendAddress", "127.0.0.1");

  private static final java.util.regex.Pattern WRITTEN =
      java.util.regex.Pattern.compile("(?<![\\w-])" + WRITTEN_NAMESPACE + "(?![\\w-])");
  private static final AtomicInteger SCHEMES = new AtomicInteger();

  final KubernetesClient client;
  final Path kubeconfig;
  final String namespace;
  final String caNamespace;
  final int xdsPort;
  final int monitoringPort;
  final int securePort;
  final int webhookPort;
  private final Registrations registrations;
  private Path bosunKubeconfig;
  private final Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private Thread bosun;

  MeshWorld(KubernetesClient client, Path dir) throws IOException {
    this.client = client;
    this.dir = dir;
    String suffix = Long.toString(System.nanoTime() & 0xffffffffL, 36);
    this.namespace = WRITTEN_NAMESPACE + "-" + suffix;
    this.caNamespace = "bosun-" + suffix;
    this.registrations =
        new Registrations(
            client,
            namespace,
            "workload-entries"
                .equals(
                    System.getProperty(
                        "bosun.e2e.backends",
                        realCluster() ? "workload-entries" : "endpoint-slices")),
            this::apply);
    String external = System.getProperty("bosun.e2e.kubeconfig", "");
    this.kubeconfig = external.isEmpty() ? dir.resolve("kubeconfig") : Path.of(external);
    if (external.isEmpty()) {
      Files.writeString(
          kubeconfig,
          """
        apiVersion: v1
        kind: Config
        clusters: [{name: e2e, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
        users: [{name: e2e, user: {token: e2e}}]
        contexts: [{name: e2e, context: {cluster: e2e, user: e2e, namespace: %s}}]
        current-context: e2e
        """
              .formatted(client.getConfiguration().getMasterUrl(), namespace));
    }
    this.xdsPort = freePort();
    this.monitoringPort = freePort();
    this.securePort = freePort();
    this.webhookPort = freePort();
    this.bosunKubeconfig = kubeconfig;
    IstioCrds.install(client);
    for (String name : List.of(namespace, caNamespace)) {
      client
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
    // The mesh config as the chart renders it: the root namespace is Bosun's own.
    client
        .configMaps()
        .inNamespace(caNamespace)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withNamespace(caNamespace)
                .withName("istio")
                .endMetadata()
                .withData(Map.of("mesh", "rootNamespace: " + caNamespace + "\n"))
                .build())
        .create();
  }

  /** Whether the tests run against a real API server ({@code -Dbosun.e2e.kubeconfig}). */
  static boolean realCluster() {
    return !System.getProperty("bosun.e2e.kubeconfig", "").isEmpty();
  }

  /**
   * The cluster the tests run against: the API server named by {@code -Dbosun.e2e.kubeconfig} if
   * given, else {@code mock} (fabric8's mock API server in CRUD mode).
   */
  static KubernetesClient cluster(KubernetesClient mock) throws IOException {
    if (!realCluster()) {
      return mock;
    }
    return new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(
            io.fabric8.kubernetes.client.Config.fromKubeconfig(
                Files.readString(Path.of(System.getProperty("bosun.e2e.kubeconfig")))))
        .build();
  }

  /** {@code text} written for namespace {@code e2e}, in this world's namespace. */
  String local(String text) {
    return WRITTEN.matcher(text).replaceAll(namespace);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Starts {@code bosun serve} and waits until it is ready. */
  MeshWorld startBosun(String... extraArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "serve",
                "--kubeconfig",
                bosunKubeconfig.toString(),
                "--namespace",
                caNamespace,
                "--xds-address",
                "127.0.0.1",
                "--xds-port",
                Integer.toString(xdsPort),
                "--monitoring-address",
                "127.0.0.1",
                "--monitoring-port",
                Integer.toString(monitoringPort),
                "--debounce-quiet",
                "10ms",
                "--debounce-max",
                "200ms",
                "--xds-stream-rate",
                "1000",
                "--secure-xds-port",
                Integer.toString(securePort),
                "--webhook-port",
                Integer.toString(webhookPort),
                // The name the tests' agents dial, as stock sidecars of an istio-system install do.
                "--serving-dns-name",
                "istiod.istio-system.svc"));
    args.addAll(List.of(extraArgs));
    bosun = new Thread(() -> BosunCommand.execute(args.toArray(String[]::new)), "bosun-serve");
    bosun.setDaemon(true);
    bosun.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> status("/ready") == 200);
    return this;
  }

  /**
   * Applies the chart's objects that a cluster without a kubelet can use: the ServiceAccount, the
   * roles and their bindings, the webhook configurations and ConfigMaps. The Deployment, its
   * Service, PodDisruptionBudget and autoscaler are left out, since Bosun runs in the test's
   * process. Cluster-scoped objects are deleted when the world closes, so that a webhook of this
   * run never answers (or fails) for a later one.
   */
  MeshWorld installChart(List<com.fasterxml.jackson.databind.JsonNode> documents) {
    for (var document : documents) {
      String kind = document.path("kind").asText();
      if (!INSTALLED_KINDS.contains(kind)) {
        continue;
      }
      var resource = client.resource(document.toString());
      resource.createOr(existing -> existing.update());
      if (document.path("metadata").path("namespace").isMissingNode()) {
        closeables.add(() -> client.resource(document.toString()).delete());
      }
    }
    return this;
  }

  private static final java.util.Set<String> INSTALLED_KINDS =
      java.util.Set.of(
          "ServiceAccount",
          "ClusterRole",
          "ClusterRoleBinding",
          "Role",
          "RoleBinding",
          "ConfigMap",
          "ValidatingWebhookConfiguration",
          "MutatingWebhookConfiguration");

  /**
   * Makes {@link #startBosun} run Bosun as ServiceAccount {@code name} of {@link #caNamespace}, as
   * the chart's Deployment does: on a real cluster with a token for it from the TokenRequest API,
   * so the API server checks every call against the roles bound to it. On the mock, which checks no
   * permissions, Bosun keeps the test token (see ChartRbacTest for the check there).
   */
  MeshWorld runAs(String name) throws IOException {
    if (!realCluster()) {
      return this;
    }
    String token = ServiceAccounts.token(client, caNamespace, name);
    var config = client.getConfiguration();
    String authority =
        config.getCaCertData() != null
            ? config.getCaCertData()
            : config.getCaCertFile() == null
                ? null
                : java.util.Base64.getEncoder()
                    .encodeToString(Files.readAllBytes(Path.of(config.getCaCertFile())));
    bosunKubeconfig = dir.resolve("kubeconfig-" + name);
    Files.writeString(
        bosunKubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: e2e, cluster: {server: "%s", %s}}]
        users: [{name: %s, user: {token: "%s"}}]
        contexts: [{name: e2e, context: {cluster: e2e, user: %s, namespace: %s}}]
        current-context: e2e
        """
            .formatted(
                config.getMasterUrl(),
                authority == null
                    ? "insecure-skip-tls-verify: true"
                    : "certificate-authority-data: " + authority,
                name,
                token,
                name,
                caNamespace));
    return this;
  }

  /**
   * A service-account token for the CA's audience: on the mock API server one its TokenReview stub
   * accepts; on a real cluster one requested through the TokenRequest API.
   */
  String token(String serviceAccount) {
    if (!realCluster()) {
      return dev.bosun.controlplane.security.TokenReviews.token(
          namespace, serviceAccount, "istio-ca");
    }
    ServiceAccounts.ensure(client, namespace, serviceAccount);
    return ServiceAccounts.token(client, namespace, serviceAccount, "istio-ca");
  }

  /** The root Bosun published in this namespace's {@code istio-ca-root-cert}, once it is there. */
  String publishedRoot() {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                client.configMaps().inNamespace(namespace).withName("istio-ca-root-cert").get()
                    != null);
    return client
        .configMaps()
        .inNamespace(namespace)
        .withName("istio-ca-root-cert")
        .get()
        .getData()
        .get("root-cert.pem");
  }

  /** Stops Bosun the way SIGTERM does: the runtime closes and streams end with UNAVAILABLE. */
  void stopBosun() throws InterruptedException {
    bosun.interrupt();
    bosun.join(TimeUnit.SECONDS.toMillis(30));
  }

  /** The status of {@code GET path} on the monitoring port, or -1 if nothing listens there. */
  int status(String path) {
    try {
      return send(path).statusCode();
    } catch (UncheckedIOException e) {
      return -1;
    }
  }

  /** The body of {@code GET path} on the monitoring port. */
  String body(String path) {
    return send(path).body();
  }

  private HttpResponse<String> send(String path) {
    try {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + path)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A service {@code name} on port 7070 (named grpc), with no endpoints yet: a Service, or with
   * WorkloadEntry backends a ServiceEntry for its cluster host name that selects them.
   */
  void service(String name) {
    registrations.service(name);
  }

  /** A backend pod of {@code service} with {@code labels}, and its endpoint slice. */
  Backend backend(String service, String pod, Map<String, String> labels, String zone)
      throws IOException {
    Backend backend = new Backend(pod);
    closeables.add(backend);
    registrations.register(service, pod, labels, zone, backend.port());
    return backend;
  }

  /**
   * A backend that is itself an xDS-enabled gRPC server, as a proxyless workload with the Istio
   * agent's files is: its certificate comes from Bosun's CA for the service account {@code
   * service}, its inbound listener (mTLS, authorization) from Bosun over xDS. Its pod carries
   * {@code security.istio.io/tlsMode: istio}, as injected pods do.
   */
  Backend xdsBackend(String service, String pod, Map<String, String> labels) throws Exception {
    Map<String, String> podLabels = new java.util.TreeMap<>(labels);
    podLabels.put("security.istio.io/tlsMode", "istio");
    int port = freePort();
    Map<String, ?> bootstrap = bootstrap(pod, service, podLabels, "zone-a", true);
    Backend backend =
        new Backend(
            pod,
            io.grpc.xds.XdsServerBuilder.forPort(
                    port,
                    io.grpc.xds.XdsServerCredentials.create(
                        io.grpc.InsecureServerCredentials.create()))
                .overrideBootstrapForTest(bootstrap));
    closeables.add(backend);
    registrations.register(service, pod, podLabels, "zone-a", port);
    return backend;
  }

  /** Deletes a backend's registration, as a scale-down would. */
  void removeBackend(String pod) {
    registrations.remove(pod);
  }

  /** Creates or updates an Istio object through the API, as {@code kubectl apply} would. */
  void apply(String yaml) {
    try {
      GenericKubernetesResource resource =
          IstioJson.yaml().readValue(local(yaml), GenericKubernetesResource.class);
      IstioKind kind = IstioKind.of(resource.getApiVersion(), resource.getKind()).orElseThrow();
      if (!realCluster() && !resource.getApiVersion().endsWith("/v1")) {
        // A real API server converts between served versions; the mock stores each version
        // apart, and Bosun reads v1.
        throw new IllegalArgumentException(
            resource.getApiVersion() + ": write v1 in tests; the mock API server does not convert");
      }
      client
          .genericKubernetesResources(KubernetesSource.resource(kind))
          .inNamespace(namespace)
          .resource(resource)
          .createOr(existing -> existing.update());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A DestinationRule {@code name} for {@code host} with one subset per {@code version} label. */
  static String subsets(String name, String host, String... versions) {
    StringBuilder yaml =
        new StringBuilder(
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: %s, namespace: e2e}
            spec:
              host: %s
              subsets:
            """
                .formatted(name, host));
    for (String version : versions) {
      yaml.append("  - {name: ")
          .append(version)
          .append(", labels: {version: ")
          .append(version)
          .append("}}\n");
    }
    return yaml.toString();
  }

  /** A grpc-xds channel to {@code target} with its own bootstrap and node identity. */
  ManagedChannel channel(String target, String locality) throws IOException {
    int n = SCHEMES.incrementAndGet();
    return channel(
        target,
        bootstrap("client-" + n, "client", Map.of("app", "client"), locality, false),
        InsecureChannelCredentials.create());
  }

  /**
   * A grpc-xds channel for a workload running as {@code serviceAccount}, with a certificate from
   * Bosun's CA: it uses mTLS wherever Bosun's config says so.
   */
  ManagedChannel secureChannel(String target, String serviceAccount) throws Exception {
    int n = SCHEMES.incrementAndGet();
    return channel(
        target,
        bootstrap(
            serviceAccount + "-" + n,
            serviceAccount,
            Map.of("app", serviceAccount),
            "zone-a",
            true),
        io.grpc.xds.XdsChannelCredentials.create(InsecureChannelCredentials.create()));
  }

  private ManagedChannel channel(
      String target, Map<String, ?> bootstrap, io.grpc.ChannelCredentials credentials) {
    String scheme = "xds-e2e-" + SCHEMES.incrementAndGet();
    NameResolverRegistry.getDefaultRegistry()
        .register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///" + target, credentials).build();
    closeables.add(channel::shutdownNow);
    return channel;
  }

  /**
   * The bootstrap the Istio agent writes for a proxyless workload: its node, and with {@code
   * certificates} the {@code default} file_watcher provider over a certificate fetched from Bosun's
   * CA for {@code serviceAccount}.
   */
  private Map<String, ?> bootstrap(
      String pod,
      String serviceAccount,
      Map<String, String> labels,
      String zone,
      boolean certificates)
      throws IOException {
    Map<String, Object> node = new java.util.LinkedHashMap<>();
    node.put(
        "id",
        "sidecar~"
            + BACKEND_ADDRESS
            + "~"
            + pod
            + "."
            + namespace
            + "~"
            + namespace
            + ".svc.cluster.local");
    node.put("locality", Map.of("region", "local", "zone", zone));
    node.put(
        "metadata",
        Map.of(
            "GENERATOR", "grpc",
            "NAMESPACE", namespace,
            "LABELS", labels,
            "SERVICE_ACCOUNT", serviceAccount,
            "INSTANCE_IPS", BACKEND_ADDRESS));
    Map<String, Object> bootstrap = new java.util.LinkedHashMap<>();
    bootstrap.put(
        "xds_servers",
        List.of(
            Map.of(
                "server_uri", "127.0.0.1:" + xdsPort,
                "channel_creds", List.of(Map.of("type", "insecure")),
                "server_features", List.of("xds_v3"))));
    bootstrap.put("node", node);
    bootstrap.put("server_listener_resource_name_template", "xds.istio.io/grpc/lds/inbound/%s");
    if (certificates) {
      WorkloadCertificates.IssuedFiles files;
      try {
        files =
            WorkloadCertificates.fetch(
                securePort,
                publishedRoot(),
                token(serviceAccount),
                "spiffe://cluster.local/ns/" + namespace + "/sa/" + serviceAccount,
                dir.resolve("certs").resolve(pod));
      } catch (java.security.GeneralSecurityException
          | org.bouncycastle.operator.OperatorCreationException e) {
        throw new IllegalStateException(e);
      }
      bootstrap.put(
          "certificate_providers",
          Map.of(
              "default",
              Map.of(
                  "plugin_name",
                  "file_watcher",
                  "config",
                  Map.of(
                      "certificate_file", files.certificate().toString(),
                      "private_key_file", files.key().toString(),
                      "ca_certificate_file", files.root().toString(),
                      "refresh_interval", "60s"))));
    }
    return bootstrap;
  }

  /** The xDS target of {@code service}'s gRPC port. */
  String host(String service) {
    return service + "." + namespace + ".svc.cluster.local:7070";
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable closeable : closeables) {
      closeable.close();
    }
    if (bosun != null && bosun.isAlive()) {
      stopBosun();
    }
  }
}
