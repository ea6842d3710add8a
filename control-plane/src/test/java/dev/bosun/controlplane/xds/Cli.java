package dev.bosun.controlplane.xds;

import dev.bosun.controlplane.cli.BosunCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** The {@code bosun} command line run in the test's JVM, its output captured. */
final class Cli {
  private Cli() {}

  /** What one run printed, and its exit code. */
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine command = new CommandLine(new BosunCommand());
    command.setOut(new PrintWriter(out));
    command.setErr(new PrintWriter(err));
    int code = command.execute(args);
    return new Result(code, out.toString(), err.toString());
  }
}
