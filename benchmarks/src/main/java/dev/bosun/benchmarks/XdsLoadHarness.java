package dev.bosun.benchmarks;

import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bosun.xds.PushScope;
import dev.bosun.xds.XdsGenerator;
import dev.bosun.xds.XdsProxy;
import dev.bosun.xds.XdsServer;
import dev.bosun.xds.XdsServerSettings;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Load harness for the xDS server: N simulated ADS clients on loopback each fetch a full sidecar
 * configuration for S services (CDS, EDS, LDS, RDS) and ACK every response, like Envoy does. It
 * prints the time until all have ACKed, the heap per idle connected proxy, and the time from an
 * endpoints-only push to each proxy's ACK (p50/p99/max over several pushes).
 *
 * <p>{@code java -Xmx4g -cp benchmarks/target/benchmarks.jar dev.bosun.benchmarks.XdsLoadHarness
 * [clients=2000] [services=1000] [channels=20]}
 */
public final class XdsLoadHarness {
  private XdsLoadHarness() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    int clients = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int channelCount = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    SyntheticMesh.init(services);

    // The server runs in its own JVM so its heap is measured without the simulated clients.
    Process child =
        new ProcessBuilder(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                System.getProperty("harness.serverJvmArg", "-Dharness.none=true"),
                "-Dharness.histogram=" + Boolean.getBoolean("harness.histogram"),
                "-cp",
                System.getProperty("java.class.path"),
                ServerMain.class.getName(),
                Integer.toString(services))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    var fromServer =
        new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()));
    var toServer = new java.io.PrintWriter(child.getOutputStream(), true);
    int port = Integer.parseInt(expect(fromServer, "PORT")[1]);

    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) {
      channels.add(
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .maxInboundMessageSize(256 << 20)
              .build());
    }
    toServer.println("heap");
    long heapBefore = Long.parseLong(expect(fromServer, "HEAP")[1]);

    CountDownLatch synced = new CountDownLatch(clients);
    List<SimulatedProxy> proxies = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      SimulatedProxy proxy =
          new SimulatedProxy(
              "sidecar~10.1."
                  + (i / 250)
                  + "."
                  + (i % 250)
                  + "~load-"
                  + i
                  + ".ns~ns.svc.cluster.local",
              synced);
      proxy.start(channels.get(i % channelCount));
      proxies.add(proxy);
    }
    if (!synced.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException(
          "only " + (clients - synced.getCount()) + " of " + clients + " proxies synced");
    }
    double connectSeconds = (System.nanoTime() - start) / 1e9;
    Thread.sleep(2000);
    toServer.println("heap");
    String[] heap = expect(fromServer, "HEAP");
    long heapConnected = Long.parseLong(heap[1]);

    List<Long> latencies = new ArrayList<>();
    int pushes = 5;
    for (int p = 0; p < pushes; p++) {
      CountDownLatch acked = new CountDownLatch(clients);
      long pushStart = System.nanoTime();
      proxies.forEach(proxy -> proxy.expectEds(pushStart, acked));
      toServer.println("push " + p);
      if (!acked.await(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "push " + p + ": only " + (clients - acked.getCount()) + " ACKs");
      }
      long[] round = proxies.stream().mapToLong(proxy -> proxy.lastEdsLatency).sorted().toArray();
      System.out.printf(
          "push %d: p50 %.1f ms, p99 %.1f ms%n",
          p, percentile(round, 0.5), percentile(round, 0.99));
      proxies.forEach(proxy -> latencies.add(proxy.lastEdsLatency));
      Thread.sleep(500);
    }
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf(
        "clients=%d services=%d (CDS %d, EDS %d, LDS %d, RDS %d resources per proxy) channels=%d%n",
        clients,
        services,
        services,
        services,
        SyntheticMesh.LISTENERS,
        SyntheticMesh.ROUTE_CONFIGS,
        channelCount);
    System.out.printf("all connected and ACKed CDS+EDS+LDS+RDS in %.2f s%n", connectSeconds);
    System.out.printf(
        "server heap per connected idle proxy: %.3f MB (%s streams; server JVM only)%n",
        (heapConnected - heapBefore) / 1e6 / clients, heap[2]);
    System.out.printf(
        "endpoints-only push to ACK over %d pushes x %d proxies: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        pushes,
        clients,
        percentile(sorted, 0.50),
        percentile(sorted, 0.99),
        sorted[sorted.length - 1] / 1e6);
    toServer.println("quit");
    child.waitFor(30, TimeUnit.SECONDS);
    child.destroy();
    System.exit(0);
  }

  private static String[] expect(java.io.BufferedReader reader, String tag)
      throws java.io.IOException {
    for (String line; (line = reader.readLine()) != null; ) {
      String[] parts = line.trim().split(" ");
      if (parts[0].equals(tag)) {
        return parts;
      }
    }
    throw new IllegalStateException("server exited before " + tag);
  }

  /** The xDS server side of the harness, driven by commands on stdin. */
  public static final class ServerMain {
    public static void main(String[] args) throws Exception {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
      SyntheticMesh mesh = SyntheticMesh.init(Integer.parseInt(args[0]));
      XdsServerSettings settings =
          XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
              .withStreamRate(1_000_000, 1_000_000);
      XdsServer server =
          new XdsServer(settings, mesh, new SimpleMeterRegistry(), System::nanoTime).start();
      server.setReady(true);
      System.out.println("PORT " + server.port());
      var commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
      for (String line; (line = commands.readLine()) != null; ) {
        String[] command = line.trim().split(" ");
        switch (command[0]) {
          case "heap" -> {
            System.out.println(
                "HEAP " + SnapshotHeap.usedAfterGc() + " " + server.connectedStreams());
            if (Boolean.getBoolean("harness.histogram")) {
              String histogram =
                  (String)
                      java.lang.management.ManagementFactory.getPlatformMBeanServer()
                          .invoke(
                              new javax.management.ObjectName(
                                  "com.sun.management:type=DiagnosticCommand"),
                              "gcClassHistogram",
                              new Object[] {new String[0]},
                              new String[] {String[].class.getName()});
              histogram.lines().limit(25).forEach(System.err::println);
            }
          }
          case "push" -> {
            String changed = mesh.changeEndpoints(Integer.parseInt(command[1]));
            long drainsBefore = server.completedDrains();
            long start = System.nanoTime();
            int queued =
                server.push(
                    PushScope.types(Set.of(XdsTypes.ENDPOINT), "endpoint change", start)
                        .onlyNames(XdsTypes.ENDPOINT, Set.of(changed)));
            while (server.completedDrains() < drainsBefore + queued) {
              Thread.onSpinWait();
            }
            System.err.printf(
                "server: push to %d streams generated and sent in %.1f ms%n",
                queued, (System.nanoTime() - start) / 1e6);
          }
          case "quit" -> {
            server.close();
            System.exit(0);
          }
          default -> System.err.println("unknown command " + line);
        }
      }
    }
  }

  private static double percentile(long[] sorted, double q) {
    int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, index)] / 1e6;
  }

  /** One Envoy-like client: CDS, then EDS for every cluster, then LDS, then RDS, ACKing each. */
  private static final class SimulatedProxy implements StreamObserver<DiscoveryResponse> {
    private final Node node;
    private final CountDownLatch synced;
    private StreamObserver<DiscoveryRequest> requests;
    private volatile CountDownLatch edsAcked;
    private volatile long edsPushStart;
    volatile long lastEdsLatency;
    private boolean done;

    SimulatedProxy(String id, CountDownLatch synced) {
      this.node = Node.newBuilder().setId(id).build();
      this.synced = synced;
    }

    void start(ManagedChannel channel) {
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(this);
      send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(XdsTypes.CLUSTER).build());
    }

    void expectEds(long pushStart, CountDownLatch latch) {
      edsPushStart = pushStart;
      edsAcked = latch;
    }

    private synchronized void send(DiscoveryRequest request) {
      requests.onNext(request);
    }

    @Override
    public void onNext(DiscoveryResponse response) {
      String type = response.getTypeUrl();
      List<String> names =
          XdsTypes.ENDPOINT.equals(type)
              ? SyntheticMesh.clusterNames
              : XdsTypes.ROUTE.equals(type) ? SyntheticMesh.routeNames : List.of();
      send(
          DiscoveryRequest.newBuilder()
              .setTypeUrl(type)
              .setVersionInfo(response.getVersionInfo())
              .setResponseNonce(response.getNonce())
              .addAllResourceNames(names)
              .build());
      if (XdsTypes.CLUSTER.equals(type) && !done) {
        send(
            DiscoveryRequest.newBuilder()
                .setTypeUrl(XdsTypes.ENDPOINT)
                .addAllResourceNames(SyntheticMesh.clusterNames)
                .build());
      } else if (XdsTypes.ENDPOINT.equals(type)) {
        if (!done) {
          send(DiscoveryRequest.newBuilder().setTypeUrl(XdsTypes.LISTENER).build());
        } else if (edsAcked != null) {
          lastEdsLatency = System.nanoTime() - edsPushStart;
          CountDownLatch latch = edsAcked;
          edsAcked = null;
          latch.countDown();
        }
      } else if (XdsTypes.LISTENER.equals(type) && !done) {
        send(
            DiscoveryRequest.newBuilder()
                .setTypeUrl(XdsTypes.ROUTE)
                .addAllResourceNames(SyntheticMesh.routeNames)
                .build());
      } else if (XdsTypes.ROUTE.equals(type) && !done) {
        done = true;
        synced.countDown();
      }
    }

    @Override
    public void onError(Throwable t) {
      System.err.println(node.getId() + ": " + t);
    }

    @Override
    public void onCompleted() {}

    void close() {
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        // already closed
      }
    }
  }

  /** The same sidecar configuration for every proxy, built once (as a control plane shares it). */
  private static final class SyntheticMesh implements XdsGenerator {
    static final int LISTENERS = 10;
    static final int ROUTE_CONFIGS = 2;
    static List<String> clusterNames;
    static List<String> routeNames = List.of("8080", "9090");

    private final Map<String, Message> clusters = new TreeMap<>();
    private final Map<String, Message> assignments = new ConcurrentHashMap<>();
    private final Map<String, Message> listeners = new TreeMap<>();
    private final Map<String, Message> routes = new TreeMap<>();

    static SyntheticMesh init(int services) {
      return new SyntheticMesh(services);
    }

    SyntheticMesh(int services) {
      List<String> names = new ArrayList<>();
      for (int s = 0; s < services; s++) {
        String name = "outbound|8080||svc-" + s + ".ns-" + (s % 50) + ".svc.cluster.local";
        names.add(name);
        clusters.put(
            name,
            Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.EDS)
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                .build());
        assignments.put(name, assignment(name, s, 0));
      }
      clusterNames = List.copyOf(names);
      for (int l = 0; l < LISTENERS; l++) {
        listeners.put(
            "0.0.0.0_" + (8000 + l),
            Listener.newBuilder().setName("0.0.0.0_" + (8000 + l)).build());
      }
      for (String route : routeNames) {
        RouteConfiguration.Builder config = RouteConfiguration.newBuilder().setName(route);
        for (int s = 0; s < services / ROUTE_CONFIGS; s++) {
          config.addVirtualHosts(
              VirtualHost.newBuilder()
                  .setName("svc-" + s + ":" + route)
                  .addAllDomains(
                      Arrays.asList(
                          "svc-" + s, "svc-" + s + ".ns-" + (s % 50) + ".svc.cluster.local")));
        }
        routes.put(route, config.build());
      }
    }

    String changeEndpoints(int generation) {
      String name = clusterNames.get(0);
      assignments.put(name, assignment(name, 0, generation + 1));
      return name;
    }

    private static ClusterLoadAssignment assignment(String name, int service, int generation) {
      LocalityLbEndpoints.Builder locality =
          LocalityLbEndpoints.newBuilder().setLoadBalancingWeight(UInt32Value.of(1));
      for (int e = 0; e < 10; e++) {
        int n = service * 16 + e + generation * 7;
        locality.addLbEndpoints(
            LbEndpoint.newBuilder()
                .setEndpoint(
                    Endpoint.newBuilder()
                        .setAddress(
                            Address.newBuilder()
                                .setSocketAddress(
                                    SocketAddress.newBuilder()
                                        .setAddress(
                                            "10."
                                                + (n >> 16 & 255)
                                                + "."
                                                + (n >> 8 & 255)
                                                + "."
                                                + (n & 255))
                                        .setPortValue(8080)))));
      }
      return ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(locality).build();
    }

    @Override
    public Map<String, ? extends Message> generate(
        XdsProxy proxy, String typeUrl, Set<String> names) {
      Map<String, Message> source =
          switch (typeUrl) {
            case XdsTypes.CLUSTER -> clusters;
            case XdsTypes.ENDPOINT -> assignments;
            case XdsTypes.LISTENER -> listeners;
            case XdsTypes.ROUTE -> routes;
            default -> Map.of();
          };
      if (names.isEmpty()) {
        return source;
      }
      Map<String, Message> selected = new TreeMap<>();
      for (String name : names) {
        Message message = source.get(name);
        if (message != null) {
          selected.put(name, message);
        }
      }
      return selected;
    }
  }
}
