package dev.bosun.controlplane.cli;

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

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(directory)) {
      spec.commandLine().getErr().println("bosun local: " + directory + ": not a directory");
      return 2;
    }
    try (ControlPlaneRuntime runtime =
        new ControlPlaneRuntime(
            options.settings(),
            new InetSocketAddress(options.monitoringAddress, options.monitoringPort),
            options.xdsSettings(),
            Set.of(LocalDirectorySource.NAME))) {
      runtime.own(new LocalDirectorySource(directory, runtime.mesh()).start(pollInterval));
      runtime.awaitShutdown();
    }
    return 0;
  }
}
