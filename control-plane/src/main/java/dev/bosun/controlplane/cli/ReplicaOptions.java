package dev.bosun.controlplane.cli;

import java.util.List;
import picocli.CommandLine.Option;

/** Options of the commands that read Bosun replicas' debug pages: where, and how to print. */
final class ReplicaOptions {
  @Option(
      names = "--bosun",
      split = ",",
      paramLabel = "URL",
      defaultValue = "http://localhost:15014",
      description =
          "Monitoring address of each Bosun replica, comma-separated (default: ${DEFAULT-VALUE};"
              + " in a cluster, one per pod, e.g. through kubectl port-forward).")
  List<String> replicas;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE}).")
  String output;

  /** Whether {@code output} is one the commands print. */
  boolean validOutput() {
    return output.equals("table") || output.equals("json");
  }
}
