package dev.bosun.controlplane.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bosun} command line: one entry point, a subcommand per mode. */
@Command(
    name = "bosun",
    mixinStandardHelpOptions = true,
    versionProvider = BosunCommand.Version.class,
    description = "An Istio-compatible service-mesh control plane.",
    subcommands = {
      LocalCommand.class,
      ServeCommand.class,
      ValidateCommand.class,
      ProxyStatusCommand.class,
      ProxyConfigCommand.class,
      AnalyzeCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BosunCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** Runs the command line and returns its exit code (2 on usage errors). */
  public static int execute(String... args) {
    return new CommandLine(new BosunCommand()).execute(args);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** The version from the jar manifest, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = BosunCommand.class.getPackage().getImplementationVersion();
      return new String[] {"bosun " + (version == null ? "development" : version)};
    }
  }
}
