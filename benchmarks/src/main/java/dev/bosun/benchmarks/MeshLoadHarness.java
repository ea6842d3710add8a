package dev.bosun.benchmarks;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load harness on Bosun's real pipeline: writes a mesh as YAML, runs {@code bosun local} on it in
 * its own JVM, connects simulated Envoy sidecars over ADS that behave as Envoy does (wildcard CDS,
 * EDS for the EDS clusters, wildcard LDS, RDS for the listeners' route names, ACKing every response
 * with the full subscription; or, with {@code --delta}, over delta ADS, subscribing and
 * unsubscribing names as clusters and listeners come and go and ACKing with the nonce alone), then
 * adds endpoints and edits VirtualService weights and times each change until the last sidecar has
 * it.
 *
 * <pre>
 * mvn -B -q package -DskipTests
 * java -Xmx6g -cp benchmarks/target/benchmarks.jar dev.bosun.benchmarks.MeshLoadHarness --proxies 2000
 * </pre>
 */
@Command(
    name = "mesh-load",
    mixinStandardHelpOptions = true,
    description = "Connects simulated Envoy sidecars to `bosun local` on a generated mesh.")
public final class MeshLoadHarness implements Callable<Integer> {
  private static final int[] TYPES = {0, 1, 2, 3};
  private static final List<String> TYPE_URLS =
      List.of(XdsTypes.CLUSTER, XdsTypes.ENDPOINT, XdsTypes.LISTENER, XdsTypes.ROUTE);
  private static final int CDS = 0;
  private static final int EDS = 1;
  private static final int LDS = 2;
  private static final int RDS = 3;

  @Option(names = "--proxies", defaultValue = "2000", description = "Simulated sidecars.")
  int proxies;

  @Option(names = "--services", defaultValue = "1000")
  int services;

  @Option(names = "--endpoints", defaultValue = "10", description = "Pods per service.")
  int endpoints;

  @Option(names = "--namespaces", defaultValue = "50")
  int namespaces;

  @Option(names = "--destination-rules", defaultValue = "500")
  int destinationRules;

  @Option(names = "--virtual-services", defaultValue = "250")
  int virtualServices;

  @Option(names = "--channels", defaultValue = "50", description = "Shared HTTP/2 connections.")
  int channelCount;

  @Option(
      names = "--jar",
      defaultValue = "control-plane/target/bosun.jar",
      description = "The Bosun jar to run (copied first, so a rebuild cannot disturb the run).")
  Path jar;

  @Option(names = "--bosun-opts", defaultValue = "-Xmx2g", split = " ")
  List<String> bosunOpts;

  @Option(
      names = "--stream-rate",
      defaultValue = "500",
      description = "Bosun's --xds-stream-rate (new streams admitted per second).")
  double streamRate;

  @Option(
      names = "--poll-interval",
      defaultValue = "1s",
      description =
          "Bosun's --poll-interval (its default): edits are picked up as the file system reports"
              + " them, the interval only backs that up.")
  String pollInterval;

  @Option(names = "--endpoint-edits", defaultValue = "20")
  int endpointEdits;

  @Option(names = "--route-edits", defaultValue = "10")
  int routeEdits;

  @Option(names = "--connect-timeout", defaultValue = "600", description = "Seconds.")
  int connectTimeoutSeconds;

  @Option(names = "--edit-timeout", defaultValue = "60", description = "Seconds per change.")
  int editTimeoutSeconds;

  @Option(
      names = "--client-threads",
      defaultValue = "4",
      description = "Threads that run the simulated sidecars' response handling (and their ACKs).")
  int clientThreads;

  @Option(
      names = "--delta",
      description =
          "Sidecars use delta (incremental) ADS, as Istio's proxies do by default"
              + " (ISTIO_DELTA_XDS), instead of state of the world.")
  boolean delta;

  @Option(
      names = "--histogram",
      description = "Print the top of Bosun's heap histogram once the sidecars are connected.")
  boolean histogram;

  private final HttpClient http = HttpClient.newHttpClient();
  private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger restarts = new AtomicInteger();
  private MeshFixture mesh;
  private Path directory;
  private int monitoringPort;

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new MeshLoadHarness()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    mesh = new MeshFixture(services, endpoints, namespaces, 0, 0);
    directory = Files.createTempDirectory("bosun-mesh-load");
    writeMesh();
    Path bosunJar = directory.resolveSibling(directory.getFileName() + "-bosun.jar");
    Files.copy(jar, bosunJar, StandardCopyOption.REPLACE_EXISTING);
    int xdsPort = freePort();
    monitoringPort = freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(bosunOpts);
    command.addAll(
        List.of(
            "-jar",
            bosunJar.toString(),
            "local",
            directory.resolve("mesh").toString(),
            "--xds-port",
            Integer.toString(xdsPort),
            "--xds-address",
            "127.0.0.1",
            "--monitoring-port",
            Integer.toString(monitoringPort),
            "--monitoring-address",
            "127.0.0.1",
            "--poll-interval",
            pollInterval,
            "--xds-stream-rate",
            Double.toString(streamRate)));
    Path log = directory.resolveSibling(directory.getFileName() + "-bosun.log");
    Process bosun =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(bosun::destroyForcibly));
    System.out.printf(
        "mesh: %d services x %d endpoints in %d namespaces, %d DestinationRules, %d VirtualServices;"
            + " bosun local (pid %d, %s, --xds-stream-rate %s, log %s); sidecars over %s ADS%n",
        services,
        endpoints,
        namespaces,
        destinationRules,
        virtualServices,
        bosun.pid(),
        String.join(" ", bosunOpts),
        streamRate,
        log,
        delta ? "delta" : "state-of-the-world");
    awaitReady(bosun);
    long heapBefore = heapAfterGc(bosun);

    ExecutorService callbacks = Executors.newFixedThreadPool(clientThreads);
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) {
      channels.add(
          NettyChannelBuilder.forAddress("127.0.0.1", xdsPort)
              .usePlaintext()
              .executor(callbacks)
              .maxInboundMessageSize(512 << 20)
              .build());
    }
    List<Sidecar> sidecars = new ArrayList<>();
    for (int p = 0; p < proxies; p++) {
      sidecars.add(new Sidecar(p, channels.get(p % channelCount)));
    }
    connectAll(sidecars, bosun, "connect");
    Sidecar first = sidecars.get(0);
    System.out.printf(
        "per sidecar: %d clusters (%d EDS), %d listeners, route configurations %s%n",
        first.clusterCount, first.edsNames.size(), first.listenerCount, first.routeNames);
    Thread.sleep(2000);
    long heapConnected = heapAfterGc(bosun);
    System.out.printf(
        "bosun heap after GC: %.0f MB before sidecars, %.0f MB with %d connected: %.1f KB per"
            + " sidecar; RSS %.0f MB%n",
        heapBefore / 1e6,
        heapConnected / 1e6,
        sidecars.size(),
        (heapConnected - heapBefore) / 1e3 / Math.max(1, sidecars.size()),
        rssBytes(bosun) / 1e6);

    if (histogram) {
      System.out.println(
          jcmd(bosun, "GC.class_histogram").lines().limit(28).reduce("", (a, b) -> a + b + "\n"));
    }

    List<Long> endpointLast = new ArrayList<>();
    List<Long> endpointFirst = new ArrayList<>();
    List<Integer> endpointUnrelated = new ArrayList<>();
    for (int i = 0; i < endpointEdits; i++) {
      int service = (i * 37 + 11) % services;
      String cluster = "outbound|8080||" + mesh.host(service);
      String address = MeshFixture.address(service, endpoints);
      Change change =
          change(
              sidecars,
              resource -> resource.cluster(cluster, address),
              EDS,
              () -> writeService(service, endpoints + 1));
      endpointLast.add(change.lastNanos);
      endpointFirst.add(change.firstNanos);
      endpointUnrelated.add(change.unrelated(CDS, LDS, RDS));
      // The next change starts once this one is undone everywhere, so their pushes never overlap.
      change(
          sidecars,
          resource -> resource.clusterWithout(cluster, address),
          EDS,
          () -> writeService(service, endpoints));
    }
    long[] endpointSorted = endpointLast.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf(
        "add one endpoint -> last sidecar has it, over %d changes: p50 %.0f ms, p99 %.0f ms,"
            + " max %.0f ms (first sidecar: p50 %.0f ms); sidecars sent a CDS/LDS/RDS response the"
            + " change did not concern: %s%n",
        endpointEdits,
        percentile(endpointSorted, 0.5),
        percentile(endpointSorted, 0.99),
        endpointSorted[endpointSorted.length - 1] / 1e6,
        percentile(endpointFirst.stream().mapToLong(Long::longValue).sorted().toArray(), 0.5),
        endpointUnrelated);

    List<Long> routeLast = new ArrayList<>();
    List<Long> routeFirst = new ArrayList<>();
    List<Integer> routeUnrelated = new ArrayList<>();
    List<Integer> routeListeners = new ArrayList<>();
    for (int i = 0; i < routeEdits; i++) {
      int vs = (i * 13 + 3) % Math.max(1, virtualServices);
      int weight = i % 2 == 0 ? 80 : 70;
      String host = mesh.host(vs);
      Change change =
          change(
              sidecars,
              resource -> resource.weight("8080", host, weight),
              RDS,
              () -> writeVirtualService(vs, weight));
      routeLast.add(change.lastNanos);
      routeFirst.add(change.firstNanos);
      routeUnrelated.add(change.unrelated(CDS, EDS));
      routeListeners.add(change.unrelated(LDS));
      change(
          sidecars,
          resource -> resource.weight("8080", host, 90),
          RDS,
          () -> writeVirtualService(vs, 90));
    }
    long[] routeSorted = routeLast.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf(
        "change one VirtualService weight -> last sidecar has it, over %d changes: p50 %.0f ms,"
            + " p99 %.0f ms, max %.0f ms (first sidecar: p50 %.0f ms); sidecars sent CDS/EDS the"
            + " change did not concern: %s; sidecars sent LDS: %s%n",
        routeEdits,
        percentile(routeSorted, 0.5),
        percentile(routeSorted, 0.99),
        routeSorted[routeSorted.length - 1] / 1e6,
        percentile(routeFirst.stream().mapToLong(Long::longValue).sorted().toArray(), 0.5),
        routeUnrelated,
        routeListeners);

    // A connect storm on a warm replica (as when another replica goes away): the same sidecars
    // reconnect to the same snapshot, with the JIT done.
    sidecars.forEach(Sidecar::disconnect);
    Thread.sleep(3000);
    connectAll(sidecars, bosun, "reconnect of all to a warm Bosun");

    // The heap above includes the configuration shared by all sidecars; what each one adds is
    // measured by closing half of them.
    long heapAll = heapAfterGc(bosun);
    List<Sidecar> leaving = sidecars.subList(0, sidecars.size() / 2);
    leaving.forEach(Sidecar::disconnect);
    Thread.sleep(3000);
    long heapHalf = heapAfterGc(bosun);
    System.out.printf(
        "bosun heap after GC: %.0f MB with %d sidecars, %.0f MB after %d disconnected: %.1f KB"
            + " per additional sidecar%n",
        heapAll / 1e6,
        sidecars.size(),
        heapHalf / 1e6,
        leaving.size(),
        (heapAll - heapHalf) / 1e3 / Math.max(1, leaving.size()));
    System.out.printf(
        "this harness (the simulated sidecars) used %.1f CPU-s in all%n",
        ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L) / 1e9);

    channels.forEach(ManagedChannel::shutdownNow);
    bosun.destroy();
    bosun.waitFor(30, TimeUnit.SECONDS);
    return 0;
  }

  /** Connects every sidecar at once and prints how long until all have ACKed every type. */
  private void connectAll(List<Sidecar> sidecars, Process bosun, String label) throws Exception {
    CountDownLatch synced = new CountDownLatch(sidecars.size());
    int retriedBefore = restarts.get();
    long cpuBefore = cpuNanos(bosun);
    long start = System.nanoTime();
    for (Sidecar sidecar : sidecars) {
      sidecar.connect(synced, start);
    }
    boolean all = synced.await(connectTimeoutSeconds, TimeUnit.SECONDS);
    double connectSeconds = (System.nanoTime() - start) / 1e9;
    double connectCpu = (cpuNanos(bosun) - cpuBefore) / 1e9;
    long[] perProxy =
        sidecars.stream().mapToLong(s -> s.syncedAt).filter(t -> t > 0).sorted().toArray();
    System.out.printf(
        "%s: %d of %d sidecars ACKed CDS+EDS+LDS+RDS in %.1f s%s; per sidecar p50 %.1f s,"
            + " p99 %.1f s, max %.1f s; %d streams retried after RESOURCE_EXHAUSTED/UNAVAILABLE%n",
        label,
        perProxy.length,
        sidecars.size(),
        connectSeconds,
        all ? "" : " (timed out)",
        percentile(perProxy, 0.5) / 1e3,
        percentile(perProxy, 0.99) / 1e3,
        perProxy.length == 0 ? 0 : perProxy[perProxy.length - 1] / 1e9,
        restarts.get() - retriedBefore);
    System.out.printf("bosun CPU during %s: %.1f CPU-s%n", label, connectCpu);
  }

  /** What one change reached: the time its last sidecar had it and what each sidecar was sent. */
  private record Change(long firstNanos, long lastNanos, List<long[]> sent) {
    int unrelated(int... types) {
      int count = 0;
      for (long[] counts : sent) {
        for (int type : types) {
          if (counts[type] > 0) {
            count++;
            break;
          }
        }
      }
      return count;
    }
  }

  /**
   * Applies {@code edit} and waits until every connected sidecar has received a resource of {@code
   * type} that satisfies {@code arrived}; then, after a quiet second, counts what else each was
   * sent.
   */
  private Change change(
      List<Sidecar> sidecars, Predicate<SentResource> arrived, int type, IoAction edit)
      throws Exception {
    List<Sidecar> live = sidecars.stream().filter(s -> s.syncedAt > 0).toList();
    CountDownLatch reached = new CountDownLatch(live.size());
    List<long[]> before = live.stream().map(Sidecar::received).toList();
    long start = System.nanoTime();
    live.forEach(s -> s.watch(type, arrived, start, reached));
    edit.run();
    if (!reached.await(editTimeoutSeconds, TimeUnit.SECONDS)) {
      System.out.printf(
          "  change not at %d of %d sidecars after %d s%n",
          reached.getCount(), live.size(), editTimeoutSeconds);
    }
    long last = live.stream().mapToLong(s -> s.reachedNanos).max().orElse(0);
    long first = live.stream().mapToLong(s -> s.reachedNanos).filter(t -> t > 0).min().orElse(0);
    Thread.sleep(1000);
    List<long[]> sent = new ArrayList<>();
    for (int i = 0; i < live.size(); i++) {
      long[] now = live.get(i).received();
      long[] delta = new long[TYPES.length];
      for (int t : TYPES) {
        delta[t] = now[t] - before.get(i)[t];
      }
      sent.add(delta);
    }
    live.forEach(Sidecar::unwatch);
    return new Change(first, last, sent);
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  private void writeMesh() throws IOException {
    Path root = directory.resolve("mesh");
    Files.createDirectories(root);
    for (int s = 0; s < services; s++) {
      Files.writeString(root.resolve("svc-" + s + ".yaml"), serviceYaml(s, endpoints));
    }
    for (int i = 0; i < destinationRules; i++) {
      Files.writeString(
          root.resolve("dr-" + i + ".yaml"), writer().writeValueAsString(mesh.destinationRule(i)));
    }
    for (int i = 0; i < virtualServices; i++) {
      Files.writeString(
          root.resolve("vs-" + i + ".yaml"),
          writer().writeValueAsString(mesh.virtualService(i, 90)));
    }
  }

  private static ObjectWriter writer() {
    return IstioJson.yaml().writer();
  }

  private String serviceYaml(int s, int count) throws IOException {
    String ns = mesh.namespace(s);
    String name = "svc-" + s;
    List<Object> documents = new ArrayList<>();
    documents.add(MeshFixture.service(ns, name));
    for (int e = 0; e < count; e++) {
      documents.add(
          MeshFixture.pod(
              ns, name + "-" + e, MeshFixture.address(s, e), e % 2 == 0 ? "v1" : "v2", name));
    }
    documents.add(mesh.slice(ns, name, s, count));
    StringBuilder yaml = new StringBuilder();
    for (Object document : documents) {
      yaml.append("---\n").append(writer().writeValueAsString(document));
    }
    return yaml.toString();
  }

  private void writeService(int s, int count) throws IOException {
    replace("svc-" + s + ".yaml", serviceYaml(s, count));
  }

  private void writeVirtualService(int i, int weight) throws IOException {
    replace("vs-" + i + ".yaml", writer().writeValueAsString(mesh.virtualService(i, weight)));
  }

  /** Writes beside the file and renames over it, so a scan never reads half a file. */
  private void replace(String file, String content) throws IOException {
    Path target = directory.resolve("mesh").resolve(file);
    Path staged = directory.resolve(file + ".tmp");
    Files.writeString(staged, content, StandardCharsets.UTF_8);
    Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void awaitReady(Process bosun) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline) {
      if (!bosun.isAlive()) {
        throw new IllegalStateException("bosun exited with " + bosun.exitValue());
      }
      try {
        if (get("/ready").statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("bosun not ready after 3 minutes");
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + path))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Bosun's heap in use after a full GC, from its own {@code jvm_memory_used_bytes} meters. */
  private long heapAfterGc(Process bosun) throws Exception {
    jcmd(bosun, "GC.run");
    long used = 0;
    for (String line : get("/metrics").body().split("\n")) {
      if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        used += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return used;
  }

  private static String jcmd(Process target, String command) throws Exception {
    Process jcmd =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(target.pid()),
                command)
            .redirectErrorStream(true)
            .start();
    String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    jcmd.waitFor(60, TimeUnit.SECONDS);
    return output;
  }

  private static long cpuNanos(Process process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }

  private static long rssBytes(Process process) throws IOException {
    for (String line :
        Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return 0;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Nearest-rank percentile of sorted nanosecond values, in milliseconds. */
  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, index)] / 1e6;
  }

  /** One Envoy-like sidecar on a shared channel. */
  private final class Sidecar implements StreamObserver<DiscoveryResponse> {
    private final int index;
    private final ManagedChannel channel;
    private CountDownLatch synced;
    private long harnessStart;
    private final Node node;
    private final AtomicLongArray received = new AtomicLongArray(TYPES.length);
    private StreamObserver<DiscoveryRequest> requests;
    private StreamObserver<DeltaDiscoveryRequest> deltaRequests;

    /** Delta only: the EDS name of each EDS cluster held, and the route names of each listener. */
    private final Map<String, String> edsByCluster = new HashMap<>();

    private final Map<String, Set<String>> routesByListener = new HashMap<>();
    private final String[] versions = new String[TYPES.length];
    private final String[] nonces = new String[TYPES.length];
    private final boolean[] requested = new boolean[TYPES.length];
    private final boolean[] acked = new boolean[TYPES.length];
    volatile long syncedAt;
    List<String> edsNames = List.of();
    Set<String> routeNames = Set.of();
    int clusterCount;
    int listenerCount;
    private volatile Watch watch;
    volatile long reachedNanos;

    private record Watch(
        int type, Predicate<SentResource> arrived, long start, CountDownLatch done) {}

    Sidecar(int index, ManagedChannel channel) {
      this.index = index;
      this.channel = channel;
      int service = index % services;
      int pod = index / services % endpoints;
      String ns = mesh.namespace(service);
      String app = "svc-" + service;
      String ip = MeshFixture.address(service, pod);
      String podName = app + "-" + pod;
      Struct.Builder labels =
          Struct.newBuilder()
              .putFields("app", text(app))
              .putFields("version", text(pod % 2 == 0 ? "v1" : "v2"))
              .putFields("security.istio.io/tlsMode", text("istio"))
              .putFields("service.istio.io/canonical-name", text(app));
      node =
          Node.newBuilder()
              .setId("sidecar~" + ip + "~" + podName + "." + ns + "~" + ns + ".svc.cluster.local")
              .setCluster(app + "." + ns)
              .setUserAgentName("envoy")
              .setMetadata(
                  Struct.newBuilder()
                      .putFields("NAMESPACE", text(ns))
                      .putFields("NAME", text(podName))
                      .putFields("LABELS", Value.newBuilder().setStructValue(labels).build())
                      .putFields("INSTANCE_IPS", text(ip))
                      .putFields("SERVICE_ACCOUNT", text(app))
                      .putFields("CLUSTER_ID", text("Kubernetes"))
                      .putFields("MESH_ID", text("cluster.local"))
                      .putFields("ISTIO_VERSION", text("1.28.0"))
                      .putFields("INTERCEPTION_MODE", text("REDIRECT"))
                      .putFields("WORKLOAD_NAME", text(app))
                      .putFields("OWNER", text("kubernetes://apis/apps/v1/namespaces/" + ns)))
              .build();
    }

    private static Value text(String value) {
      return Value.newBuilder().setStringValue(value).build();
    }

    /** Opens the stream; {@code synced} counts down once all four types are ACKed. */
    synchronized void connect(CountDownLatch synced, long harnessStart) {
      this.synced = synced;
      this.harnessStart = harnessStart;
      syncedAt = 0;
      leaving = false;
      connect();
    }

    private synchronized void connect() {
      Arrays.fill(versions, "");
      Arrays.fill(nonces, "");
      Arrays.fill(requested, false);
      Arrays.fill(acked, false);
      edsNames = List.of();
      routeNames = Set.of();
      if (delta) {
        edsByCluster.clear();
        routesByListener.clear();
        deltaRequests =
            AggregatedDiscoveryServiceGrpc.newStub(channel)
                .deltaAggregatedResources(new DeltaResponses());
        subscribe(CDS, List.of(), List.of(), true);
        return;
      }
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      request(CDS, List.of(), true);
    }

    /** A delta request: names newly subscribed and unsubscribed, or an ACK when both are empty. */
    private void subscribe(
        int type, List<String> subscribe, List<String> unsubscribe, boolean withNode) {
      DeltaDiscoveryRequest.Builder request =
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(TYPE_URLS.get(type))
              .addAllResourceNamesSubscribe(subscribe)
              .addAllResourceNamesUnsubscribe(unsubscribe);
      if (withNode) {
        request.setNode(node);
      }
      requested[type] = true;
      deltaRequests.onNext(request.build());
    }

    private void ack(int type, String nonce) {
      deltaRequests.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(TYPE_URLS.get(type))
              .setResponseNonce(nonce)
              .build());
    }

    /**
     * As Envoy over delta ADS: a cluster added or removed subscribes or unsubscribes its EDS name,
     * a listener its route names; every response is ACKed with its nonce alone.
     */
    private synchronized void onDelta(DeltaDiscoveryResponse response) {
      int type = TYPE_URLS.indexOf(response.getTypeUrl());
      if (type < 0) {
        return;
      }
      received.incrementAndGet(type);
      List<ByteString> values = new ArrayList<>();
      for (Resource resource : response.getResourcesList()) {
        values.add(resource.getResource().getValue());
      }
      watched(type, values);
      ack(type, response.getNonce());
      switch (type) {
        case CDS -> {
          Set<String> before = new HashSet<>(edsByCluster.values());
          for (ByteString cluster : values) {
            String[] names = ResponseDecoding.edsName(cluster);
            if (names[1] != null) {
              edsByCluster.put(names[0], names[1]);
            } else {
              edsByCluster.remove(names[0]);
            }
          }
          response.getRemovedResourcesList().forEach(edsByCluster::remove);
          Set<String> after = new HashSet<>(edsByCluster.values());
          clusterCount += values.size() - response.getRemovedResourcesCount();
          List<String> added = after.stream().filter(n -> !before.contains(n)).sorted().toList();
          List<String> gone = before.stream().filter(n -> !after.contains(n)).sorted().toList();
          if (!added.isEmpty() || !gone.isEmpty() || !requested[EDS]) {
            edsNames = List.copyOf(after);
            subscribe(EDS, added, gone, false);
          }
        }
        case EDS -> {
          if (!requested[LDS]) {
            subscribe(LDS, List.of(), List.of(), false);
          }
        }
        case LDS -> {
          Set<String> before = union(routesByListener.values());
          for (Resource resource : response.getResourcesList()) {
            routesByListener.put(
                resource.getName(), ResponseDecoding.routeNames(resource.getResource().getValue()));
          }
          response.getRemovedResourcesList().forEach(routesByListener::remove);
          Set<String> after = union(routesByListener.values());
          listenerCount = routesByListener.size();
          List<String> added = after.stream().filter(n -> !before.contains(n)).sorted().toList();
          List<String> gone = before.stream().filter(n -> !after.contains(n)).sorted().toList();
          if (!added.isEmpty() || !gone.isEmpty() || !requested[RDS]) {
            routeNames = Set.copyOf(after);
            subscribe(RDS, added, gone, false);
          }
        }
        default -> {}
      }
      acked[type] = true;
      countSynced();
    }

    private static Set<String> union(java.util.Collection<Set<String>> sets) {
      Set<String> all = new HashSet<>();
      sets.forEach(all::addAll);
      return all;
    }

    /** The delta stream's responses, handled by the same sidecar. */
    private final class DeltaResponses implements StreamObserver<DeltaDiscoveryResponse> {
      @Override
      public void onNext(DeltaDiscoveryResponse response) {
        onDelta(response);
      }

      @Override
      public void onError(Throwable t) {
        Sidecar.this.onError(t);
      }

      @Override
      public void onCompleted() {}
    }

    long[] received() {
      long[] counts = new long[TYPES.length];
      for (int t : TYPES) {
        counts[t] = received.get(t);
      }
      return counts;
    }

    void watch(int type, Predicate<SentResource> arrived, long start, CountDownLatch done) {
      reachedNanos = 0;
      watch = new Watch(type, arrived, start, done);
    }

    void unwatch() {
      watch = null;
    }

    /**
     * The names of the last request of each type, and as UTF-8: Envoy repeats the same list in
     * every ACK, and encoding thousands of strings per ACK would make the simulated sidecars, not
     * Bosun, the busiest process on the machine.
     */
    private final List<?>[] lastNames = new List<?>[TYPES.length];

    private final List<?>[] lastNameBytes = new List<?>[TYPES.length];

    @SuppressWarnings("unchecked")
    private void request(int type, List<String> names, boolean withNode) {
      if (names != lastNames[type] && !names.equals(lastNames[type])) {
        lastNames[type] = names;
        lastNameBytes[type] = names.stream().map(ByteString::copyFromUtf8).toList();
      }
      DiscoveryRequest.Builder request =
          DiscoveryRequest.newBuilder()
              .setTypeUrl(TYPE_URLS.get(type))
              .setVersionInfo(versions[type])
              .setResponseNonce(nonces[type]);
      for (ByteString name : (List<ByteString>) lastNameBytes[type]) {
        request.addResourceNamesBytes(name);
      }
      if (withNode) {
        request.setNode(node);
      }
      requested[type] = true;
      requests.onNext(request.build());
    }

    @Override
    public synchronized void onNext(DiscoveryResponse response) {
      int type = TYPE_URLS.indexOf(response.getTypeUrl());
      if (type < 0) {
        return;
      }
      received.incrementAndGet(type);
      versions[type] = response.getVersionInfo();
      nonces[type] = response.getNonce();
      List<ByteString> values = new ArrayList<>();
      for (var any : response.getResourcesList()) {
        values.add(any.getValue());
      }
      watched(type, values);
      switch (type) {
        case CDS -> {
          List<String> names = new ArrayList<>();
          for (var any : response.getResourcesList()) {
            String eds = ResponseDecoding.edsName(any.getValue())[1];
            if (eds != null) {
              names.add(eds);
            }
          }
          clusterCount = response.getResourcesCount();
          request(CDS, List.of(), false);
          if (!names.equals(edsNames) || !requested[EDS]) {
            edsNames = List.copyOf(names);
            request(EDS, edsNames, false);
          }
        }
        case EDS -> {
          request(EDS, edsNames, false);
          if (!requested[LDS]) {
            request(LDS, List.of(), false);
          }
        }
        case LDS -> {
          Set<String> names = new java.util.TreeSet<>();
          for (var any : response.getResourcesList()) {
            names.addAll(ResponseDecoding.routeNames(any.getValue()));
          }
          listenerCount = response.getResourcesCount();
          request(LDS, List.of(), false);
          if (!names.equals(routeNames) || !requested[RDS]) {
            routeNames = Set.copyOf(names);
            request(RDS, List.copyOf(names), false);
          }
        }
        default -> request(RDS, List.copyOf(routeNames), false);
      }
      acked[type] = true;
      countSynced();
    }

    /** Marks the change being watched as arrived when one of {@code values} shows it. */
    private void watched(int type, List<ByteString> values) {
      Watch current = watch;
      if (current != null && current.type() == type && reachedNanos == 0) {
        for (ByteString value : values) {
          if (current.arrived().test(new SentResource(value))) {
            reachedNanos = System.nanoTime() - current.start();
            current.done().countDown();
            break;
          }
        }
      }
    }

    private void countSynced() {
      if (syncedAt == 0 && acked[CDS] && acked[EDS] && acked[LDS] && acked[RDS]) {
        syncedAt = System.nanoTime() - harnessStart;
        synced.countDown();
      }
    }

    private volatile boolean leaving;

    synchronized void disconnect() {
      leaving = true;
      if (delta) {
        deltaRequests.onCompleted();
      } else {
        requests.onCompleted();
      }
    }

    @Override
    public void onError(Throwable t) {
      if (leaving) {
        return;
      }
      Status status = Status.fromThrowable(t);
      if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED
          || status.getCode() == Status.Code.UNAVAILABLE) {
        restarts.incrementAndGet();
        retries.schedule(
            () -> connect(), 200 + ThreadLocalRandom.current().nextInt(800), TimeUnit.MILLISECONDS);
      } else {
        System.err.println(node.getId() + ": " + status);
      }
    }

    @Override
    public void onCompleted() {}
  }
}
