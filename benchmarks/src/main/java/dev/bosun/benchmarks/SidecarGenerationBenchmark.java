package dev.bosun.benchmarks;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.controlplane.xds.sidecar.SidecarGenerator;
import dev.bosun.crd.IstioJson;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Envoy sidecar config generation at 1,000 services x 10 endpoints in 50 namespaces with 500
 * VirtualServices and 500 DestinationRules: the full config (CDS, EDS, LDS, RDS) of one unscoped
 * sidecar and of one scoped by a Sidecar resource to 20 hosts, against the time just to serialise
 * the unscoped config. Prints the bytes of each at setup. Every invocation uses the same snapshot,
 * which keeps what it generated, so after the first this is what one more sidecar costs once others
 * of its scope were served; {@link MeshGenerationBenchmark} measures generation from a fresh
 * snapshot.
 *
 * <p>{@code java -jar benchmarks/target/benchmarks.jar SidecarGenerationBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
public class SidecarGenerationBenchmark {
  private MeshSnapshot snapshot;
  private SidecarGenerator generator;
  private ProxyView unscoped;
  private ProxyView scoped;
  private List<Message> unscopedConfig;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    MeshFixture mesh = new MeshFixture(1000, 10, 50, 500, 500);
    StringBuilder hosts = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      hosts
          .append(i == 0 ? "" : ", ")
          .append('"')
          .append(mesh.namespace(i * 7))
          .append('/')
          .append(mesh.host(i * 7))
          .append('"');
    }
    mesh.store.put(
        IstioJson.yaml()
            .readTree(
                """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: ns-1}
                spec:
                  egress: [{hosts: [%s]}]
                """
                    .formatted(hosts)),
        "benchmark");
    snapshot = new SnapshotBuilder("istio-system").full(1, Instant.EPOCH, mesh.inputs());
    generator = new SidecarGenerator("cluster.local");
    unscoped = proxy("ns-0");
    scoped = proxy("ns-1");
    unscopedConfig = generate(unscoped);
    System.out.printf(
        "%nunscoped sidecar: %d resources, %d bytes; scoped to 20 hosts: %d resources, %d bytes%n",
        unscopedConfig.size(),
        bytes(unscopedConfig),
        generate(scoped).size(),
        bytes(generate(scoped)));
  }

  private static ProxyView proxy(String namespace) {
    return ProxyView.of(
        Node.newBuilder()
            .setId(
                "sidecar~10.250.0.1~bench-1." + namespace + "~" + namespace + ".svc.cluster.local")
            .setMetadata(
                Struct.newBuilder()
                    .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build()))
            .build());
  }

  private List<Message> generate(ProxyView proxy) {
    return SidecarConfig.generate(generator, snapshot, proxy, SidecarConfig::edsClusters);
  }

  private static long bytes(List<Message> messages) {
    long total = 0;
    for (Message message : messages) {
      total += message.getSerializedSize();
    }
    return total;
  }

  @Benchmark
  public List<Message> generateUnscoped() {
    return generate(unscoped);
  }

  @Benchmark
  public List<Message> generateScopedTo20Hosts() {
    return generate(scoped);
  }

  /** Serialising the unscoped config once: the yardstick for generation. */
  @Benchmark
  public long serializeUnscoped() {
    long total = 0;
    for (Message message : unscopedConfig) {
      total += message.toByteArray().length;
    }
    return total;
  }
}
