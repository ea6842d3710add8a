package dev.bosun.benchmarks;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Snapshot build time at the scale (1,000 services x 10 endpoints in 50 namespaces, 500
 * VirtualServices, 500 DestinationRules), and the cost of one endpoint change: the registry update
 * plus the endpoints-only snapshot.
 *
 * <p>{@code java -jar benchmarks/target/benchmarks.jar SnapshotBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
public class SnapshotBenchmark {
  @Param({"1000"})
  int services;

  private MeshFixture mesh;
  private SnapshotBuilder builder;
  private MeshSnapshot base;
  private EndpointSlice[] slices;
  private long version;
  private int toggle;

  @Setup
  public void setUp() {
    mesh = new MeshFixture(services, 10, 50, 500, 500);
    builder = new SnapshotBuilder("istio-system");
    base = builder.full(1, Instant.EPOCH, mesh.inputs());
    int target = services / 2;
    slices =
        new EndpointSlice[] {
          mesh.slice(mesh.namespace(target), "svc-" + target, target, 9),
          mesh.slice(mesh.namespace(target), "svc-" + target, target, 10)
        };
  }

  @Benchmark
  public MeshSnapshot fullBuild() {
    return builder.full(++version, Instant.EPOCH, mesh.inputs());
  }

  /** One endpoint leaves or joins a service: registry update, then an endpoints-only snapshot. */
  @Benchmark
  public MeshSnapshot endpointChange() {
    int target = services / 2;
    mesh.registry.upsertEndpointSlice(slices[toggle++ & 1]);
    String host = mesh.host(target);
    return builder.withEndpoints(
        base, ++version, Instant.EPOCH, Map.of(host, mesh.registry.endpoints(host)));
  }
}
