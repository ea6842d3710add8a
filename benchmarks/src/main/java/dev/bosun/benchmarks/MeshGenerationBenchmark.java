package dev.bosun.benchmarks;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole mesh's sidecar config from one snapshot: CDS, EDS (every EDS cluster), LDS and RDS
 * (every route name) for {@code proxies} Envoy sidecars spread over the 50 namespaces of a mesh of
 * 1,000 services x 10 endpoints with 500 VirtualServices and 500 DestinationRules. Each invocation
 * gets a new snapshot, so nothing generated for an earlier one is reused: the time is what one push
 * costs the control plane. With resources shared per snapshot, the cost follows the number of
 * distinct proxy scopes (here namespaces), not the number of proxies; compare {@code -p
 * proxies=100} with the default. Prints, per invocation, how many distinct resource objects the
 * proxies got.
 *
 * <p>{@code java -jar benchmarks/target/benchmarks.jar MeshGenerationBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx4g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class MeshGenerationBenchmark {
  @Param({"2000"})
  public int proxies;

  private MeshFixture mesh;
  private SidecarGenerator generator;
  private List<ProxyView> views;
  private MeshSnapshot snapshot;
  private long version;

  /** The EDS subscription of the sidecars that got one cluster map, by that map. */
  private final Map<Map<String, Message>, Set<String>> edsSubscriptions = new IdentityHashMap<>();

  /** Equal subscriptions as one set, as the xDS server keeps them. */
  private final com.google.common.collect.Interner<Set<String>> subscriptions =
      com.google.common.collect.Interners.newStrongInterner();

  @Setup(Level.Trial)
  public void setUp() {
    mesh = new MeshFixture(1000, 10, 50, 250, 500);
    generator = new SidecarGenerator("cluster.local");
    views = new ArrayList<>();
    for (int i = 0; i < proxies; i++) {
      int service = i % mesh.services;
      String namespace = mesh.namespace(service);
      String pod = "svc-" + service + "-" + (i / mesh.services);
      views.add(
          ProxyView.of(
              Node.newBuilder()
                  .setId(
                      "sidecar~"
                          + MeshFixture.address(service, i / mesh.services)
                          + "~"
                          + pod
                          + "."
                          + namespace
                          + "~"
                          + namespace
                          + ".svc.cluster.local")
                  .setMetadata(
                      Struct.newBuilder()
                          .putFields("NAMESPACE", string(namespace))
                          .putFields(
                              "LABELS",
                              Value.newBuilder()
                                  .setStructValue(
                                      Struct.newBuilder()
                                          .putFields("app", string("svc-" + service))
                                          .putFields("version", string(i % 2 == 0 ? "v1" : "v2")))
                                  .build()))
                  .build()));
    }
  }

  private static Value string(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  @Setup(Level.Invocation)
  public void newSnapshot() {
    edsSubscriptions.clear();
    snapshot = new SnapshotBuilder("istio-system").full(++version, Instant.EPOCH, mesh.inputs());
  }

  @Benchmark
  public long everySidecarFromOneSnapshot() {
    long resources = 0;
    for (ProxyView proxy : views) {
      resources += generate(proxy).size();
    }
    return resources;
  }

  /** Counts, from the last invocation's snapshot, what the sidecars got and how much is shared. */
  @TearDown(Level.Iteration)
  public void report() {
    Map<Message, Boolean> distinct = new IdentityHashMap<>();
    long resources = 0;
    for (ProxyView proxy : views) {
      for (Message message : generate(proxy)) {
        distinct.put(message, Boolean.TRUE);
        resources++;
      }
    }
    System.out.printf(
        "%n%d sidecars: %d resources, %d distinct objects, %d values derived from the snapshot%n",
        proxies, resources, distinct.size(), snapshot.derivedCount());
  }

  private List<Message> generate(ProxyView proxy) {
    // The server keeps one set per distinct subscription; sidecars with equal clusters subscribe
    // to equal EDS names.
    return SidecarConfig.generate(
        generator,
        snapshot,
        proxy,
        clusters ->
            edsSubscriptions.computeIfAbsent(
                clusters, all -> subscriptions.intern(SidecarConfig.edsClusters(all))));
  }
}
