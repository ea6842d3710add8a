package dev.bosun.controlplane.cli;

import dev.bosun.controlplane.validate.ManifestCheck;
import dev.bosun.controlplane.validate.ManifestCheck.Summary;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bosun validate PATH...}: checks Istio YAML the way the admission webhook would. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Validates Istio configuration in YAML files or directories (searched recursively for"
          + " .yaml, .yml and .json). Kinds Bosun does not own are skipped.",
      "Prints one line per problem: file:line (document N): Kind namespace/name: field: problem."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every Istio document is valid",
      "1:at least one document is invalid or malformed",
      "2:usage error or unreadable path"
    })
final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or directories to check.")
  List<Path> paths;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Summary summary = ManifestCheck.check(paths, out::println, err::println);
    err.println(summary);
    out.flush();
    err.flush();
    return summary.exitCode();
  }
}
