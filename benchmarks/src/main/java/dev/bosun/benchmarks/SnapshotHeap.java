package dev.bosun.benchmarks;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.controlplane.snapshot.SnapshotBuilder;
import java.time.Instant;

/**
 * Prints the heap one full snapshot retains at the benchmark scale, measured as the growth of used
 * heap after full GCs while the snapshot is held (the registry and store are excluded: they exist
 * before the snapshot is built).
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.bosun.benchmarks.SnapshotHeap}
 */
public final class SnapshotHeap {
  private SnapshotHeap() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    long empty = usedAfterGc();
    MeshFixture mesh = new MeshFixture(services, 10, 50, 500, 500);
    long model = usedAfterGc() - empty;
    SnapshotBuilder builder = new SnapshotBuilder("istio-system");
    builder.full(0, Instant.EPOCH, mesh.inputs()); // warm up class loading
    long before = usedAfterGc();
    MeshSnapshot[] held = new MeshSnapshot[5];
    for (int i = 0; i < held.length; i++) {
      held[i] = builder.full(i + 1, Instant.EPOCH, mesh.inputs());
    }
    long after = usedAfterGc();
    System.out.printf(
        "services=%d endpoints=%d virtualServices=500 destinationRules=500:"
            + " registry+store %.1f MB, each snapshot %.2f MB more (%d held)%n",
        services,
        held[0].endpoints(mesh.host(0)).size() * services,
        model / 1e6,
        (after - before) / 1e6 / held.length,
        held.length);
  }

  /** Heap in use once repeated full collections have settled it. */
  static long usedAfterGc() throws InterruptedException {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
