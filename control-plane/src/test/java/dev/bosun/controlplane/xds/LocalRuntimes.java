package dev.bosun.controlplane.xds;

import static org.awaitility.Awaitility.await;

import dev.bosun.controlplane.cli.ControlPlaneRuntime;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.xds.XdsServerSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code bosun local} in the test's JVM: the composition root on a directory of YAML (rescanned
 * every 100 ms, pushes debounced 10-100 ms), on loopback ports, returned once its first snapshot is
 * ready.
 */
final class LocalRuntimes {
  private LocalRuntimes() {}

  static ControlPlaneRuntime ready(Path directory) throws java.io.IOException {
    ControlPlaneRuntime runtime =
        new ControlPlaneRuntime(
            new MeshSettings(
                "cluster.local", "istio-system", Duration.ofMillis(10), Duration.ofMillis(100)),
            new InetSocketAddress("127.0.0.1", 0),
            XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            Set.of(LocalDirectorySource.NAME));
    try {
      runtime.own(
          new LocalDirectorySource(directory, runtime.mesh()).start(Duration.ofMillis(100)));
      await().atMost(Duration.ofSeconds(30)).until(runtime.mesh()::ready);
      return runtime;
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
  }
}
