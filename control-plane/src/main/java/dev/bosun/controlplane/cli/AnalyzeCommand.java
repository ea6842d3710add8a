package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.analyze.MeshAnalyzer;
import dev.bosun.controlplane.analyze.MeshAnalyzer.Finding;
import dev.bosun.controlplane.mesh.MeshModel;
import dev.bosun.controlplane.mesh.MeshSettings;
import dev.bosun.controlplane.push.Ticker;
import dev.bosun.controlplane.source.LocalDirectorySource;
import dev.bosun.controlplane.xds.policy.UpstreamTlsChangeFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bosun analyze DIR}: the mesh a directory of YAML describes (as {@code bosun local} reads
 * it), checked by some of istiod's analyzers, printed as {@code istioctl analyze} prints them.
 */
@Command(
    name = "analyze",
    mixinStandardHelpOptions = true,
    description =
        "Analyzes the mesh a directory of YAML describes (Services, endpoints, pods and Istio"
            + " config, as bosun local reads them): objects the validator refuses (IST0106),"
            + " VirtualService destinations and gateways that do not exist (IST0101), mesh"
            + " VirtualServices that conflict (IST0109).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:no errors (warnings may have been printed)",
      "2:usage error or unreadable directory",
      "79:at least one error, as istioctl analyze"
    })
final class AnalyzeCommand implements Callable<Integer> {
  /** istioctl's exit code when analysis found issues at the failure threshold. */
  static final int FOUND_ERRORS = 79;

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "A directory of YAML, searched recursively.")
  Path directory;

  @Option(
      names = "--domain-suffix",
      defaultValue = "cluster.local",
      description = "Cluster DNS suffix of service host names (default: ${DEFAULT-VALUE}).")
  String domainSuffix;

  @Option(
      names = "--root-namespace",
      defaultValue = "istio-system",
      description = "Namespace whose config applies mesh-wide (default: ${DEFAULT-VALUE}).")
  String rootNamespace;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.isDirectory(directory)) {
      err.println("bosun analyze: " + directory + ": not a directory");
      return 2;
    }
    try (MeshModel mesh =
            new MeshModel(
                    new MeshSettings(
                        domainSuffix, rootNamespace, Duration.ofMillis(1), Duration.ofMillis(10)),
                    new SimpleMeterRegistry(),
                    Ticker.SYSTEM,
                    Clock.systemUTC(),
                    Set.of(LocalDirectorySource.NAME),
                    new UpstreamTlsChangeFilter())
                .start();
        LocalDirectorySource source =
            new LocalDirectorySource(directory, mesh).start(Duration.ofSeconds(1))) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!mesh.ready() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      if (!mesh.ready()) {
        err.println("bosun analyze: " + directory + ": the mesh could not be built");
        return 2;
      }
      List<Finding> findings = MeshAnalyzer.analyze(mesh.snapshot(), mesh.store());
      findings.forEach(out::println);
      long errors = findings.stream().filter(f -> f.level() == MeshAnalyzer.Level.ERROR).count();
      if (findings.isEmpty()) {
        err.println("\u2714 No validation issues found when analyzing " + directory + ".");
      } else {
        err.println(
            "Found "
                + errors
                + " error(s) and "
                + (findings.size() - errors)
                + " warning(s) in "
                + directory);
      }
      out.flush();
      return errors > 0 ? FOUND_ERRORS : 0;
    }
  }
}
