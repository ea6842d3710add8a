package dev.bosun.controlplane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bosun validate} as a user runs it: exit codes, one line per problem, no stack traces. */
class ValidateCommandTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine command = new CommandLine(new BosunCommand());
    command.setOut(new PrintWriter(out, true));
    command.setErr(new PrintWriter(err, true));
    return command.execute(args);
  }

  @Test
  void validate_bundledExample_exitsZero() {
    int code = run("validate", "../deploy/examples/bookinfo");
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).contains("0 invalid").contains("7 valid");
  }

  @Test
  void validate_invalidDocument_printsOneLinePerProblem_andExitsOne() throws IOException {
    Path file = dir.resolve("reviews.yaml");
    Files.writeString(
        file,
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: not-ours}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews}
              weight: -5
            timeout: 1.5 seconds
        """);
    int code = run("validate", file.toString());
    assertThat(code).isEqualTo(1);
    assertThat(out.toString().lines())
        .containsExactly(
            file
                + ":5 (document 2): VirtualService default/reviews: spec.http[0].timeout:"
                + " \"1.5 seconds\": invalid duration (expected: a duration such as \"1.5s\","
                + " \"300ms\", \"1m\" or \"1h\")",
            file
                + ":5 (document 2): VirtualService default/reviews: spec.http[0].route[0].weight:"
                + " -5: negative weight (expected: >= 0)");
    assertThat(err.toString()).contains("1 invalid").contains("1 skipped");
  }

  @Test
  void validate_malformedYaml_isAnErrorLine_notAStackTrace() throws IOException {
    Path file = dir.resolve("broken.yaml");
    Files.writeString(
        file, "apiVersion: networking.istio.io/v1\nkind: Gateway\nspec:\n  servers: [\n");
    int code = run("validate", file.toString());
    assertThat(code).isEqualTo(1);
    assertThat(out.toString().lines())
        .singleElement()
        .asString()
        .startsWith(file + ":")
        .contains("(document 1): malformed YAML: ");
    assertThat(out.toString() + err.toString()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void validate_directory_isSearchedRecursively() throws IOException {
    Path nested = Files.createDirectories(dir.resolve("a/b"));
    Files.writeString(
        nested.resolve("gw.yml"),
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: x}\nspec: {}\n");
    Files.writeString(dir.resolve("notes.txt"), "not yaml: [");
    int code = run("validate", dir.toString());
    assertThat(code).isEqualTo(1);
    assertThat(out.toString())
        .contains(
            "gw.yml:1 (document 1): Gateway x/gw: spec.servers: missing (expected: at least one server)");
    assertThat(err.toString()).contains("checked 1 file:");
  }

  @Test
  void validate_missingPath_exitsTwo() {
    int code = run("validate", dir.resolve("nope.yaml").toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("nope.yaml: cannot read: no such file or directory");
  }

  @Test
  void validate_notUtf8_exitsTwo() throws IOException {
    Path file = dir.resolve("latin1.yaml");
    Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xe9, '\n'});
    assertThat(run("validate", file.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("latin1.yaml: cannot read: not UTF-8 text");
  }

  @Test
  void validate_withoutPaths_isAUsageError() {
    assertThat(run("validate")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required parameter");
  }

  @Test
  void bosun_withoutSubcommand_isAUsageError() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("a subcommand is required");
  }
}
