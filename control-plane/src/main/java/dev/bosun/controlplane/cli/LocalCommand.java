package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.meshconfig.MeshConfigFile;
import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import dev.bosun.controlplane.source.LocalDirectorySource;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bosun local DIR}: runs the control plane on a directory of YAML, no cluster needed. */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    description = {
      "Runs Bosun on a directory of Kubernetes and Istio YAML (Services, EndpointSlices, Pods,"
          + " Namespaces, Nodes and Istio kinds), rescanning it for changes. Runs until stopped."
    })
final class LocalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin MeshOptions options;

  @Parameters(paramLabel = "DIR", description = "Directory to read, recursively.")
  Path directory;

  @Option(
      names = "--poll-interval",
      defaultValue = "1s",
      converter = MeshOptions.DurationConverter.class,
      description = "How often to rescan the directory (default: ${DEFAULT-VALUE}).")
  Duration pollInterval;

  @Option(
      names = "--mesh-config",
      paramLabel = "FILE",
      description =
          "Istio MeshConfig YAML (what the istio ConfigMap holds under key mesh), read at start and"
              + " re-read with the directory (default: none, Istio's defaults).")
  Path meshConfig;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(directory)) {
      spec.commandLine().getErr().println("bosun local: " + directory + ": not a directory");
      return 2;
    }
    dev.bosun.controlplane.security.JwksResolver.Settings jwks;
    try {
      jwks = options.jwksSettings();
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      spec.commandLine().getErr().println("bosun local: " + e.getMessage());
      return 2;
    }
    MeshConfigStore meshConfigStore = new MeshConfigStore(options.overrides(spec));
    MeshConfigFile file = null;
    if (meshConfig != null) {
      try {
        file = new MeshConfigFile(meshConfig, meshConfigStore).start(pollInterval);
      } catch (java.io.IOException e) {
        spec.commandLine()
            .getErr()
            .println("bosun local: " + meshConfig + ": cannot read mesh config: " + e.getMessage());
        return 2;
      }
    }
    try (MeshConfigFile closeFile = file;
        ControlPlaneRuntime runtime =
            new ControlPlaneRuntime(
                options.settings(meshConfigStore.current()),
                meshConfigStore,
                new InetSocketAddress(options.monitoringAddress, options.monitoringPort),
                options.xdsSettings(),
                Set.of(LocalDirectorySource.NAME))) {
      runtime.mesh().jwks(jwks);
      runtime.own(new LocalDirectorySource(directory, runtime.mesh()).start(pollInterval));
      runtime.awaitShutdown();
    }
    return 0;
  }
}
