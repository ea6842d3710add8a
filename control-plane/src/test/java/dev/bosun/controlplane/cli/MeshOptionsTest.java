package dev.bosun.controlplane.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.meshconfig.MeshConfigStore;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Which command-line flags win over the mesh config: only those given explicitly. */
class MeshOptionsTest {
  private static MeshConfigStore.Overrides overrides(String... args) {
    CommandLine command = new CommandLine(new BosunCommand());
    CommandLine.ParseResult parsed = command.parseArgs(args);
    LocalCommand local = (LocalCommand) parsed.subcommand().commandSpec().userObject();
    return local.options.overrides(local.spec);
  }

  @Test
  void overrides_givenFlags_win() {
    assertThat(overrides("local", "--trust-domain", "example.org", "--root-namespace", "r", "dir"))
        .isEqualTo(new MeshConfigStore.Overrides(Optional.of("r"), Optional.of("example.org")));
  }

  @Test
  void overrides_flagsAtTheirDefaults_leaveTheMeshConfigToDecide() {
    assertThat(overrides("local", "dir")).isEqualTo(MeshConfigStore.Overrides.NONE);
  }

  @Test
  void overrides_aFlagGivenWithTheDefaultValue_stillWins() {
    assertThat(overrides("local", "--trust-domain", "cluster.local", "dir").trustDomain())
        .contains("cluster.local");
  }

  private static MeshOptions options(String... args) {
    CommandLine command = new CommandLine(new BosunCommand());
    CommandLine.ParseResult parsed = command.parseArgs(args);
    return ((LocalCommand) parsed.subcommand().commandSpec().userObject()).options;
  }

  @Test
  void jwks_defaultsAreIstiods_andTheRefreshIntervalIsAFlag() throws Exception {
    assertThat(options("local", "dir").jwksSettings().refresh())
        .isEqualTo(java.time.Duration.ofMinutes(20));
    assertThat(options("local", "--jwks-refresh-interval", "90s", "dir").jwksSettings().refresh())
        .isEqualTo(java.time.Duration.ofSeconds(90));
  }

  @Test
  void jwksCaBundle_thatIsNotPemCertificates_isAClearError(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path empty = java.nio.file.Files.writeString(dir.resolve("roots.pem"), "");
    java.nio.file.Path garbage =
        java.nio.file.Files.writeString(
            dir.resolve("key.pem"),
            "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> options("local", "--jwks-ca-bundle", empty.toString(), "dir").jwksSettings())
        .hasMessage(
            "--jwks-ca-bundle "
                + empty
                + ": holds no certificates (expected: PEM CERTIFICATE blocks)");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> options("local", "--jwks-ca-bundle", garbage.toString(), "dir").jwksSettings())
        .hasMessageStartingWith("--jwks-ca-bundle " + garbage + " is not valid PEM");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                options("local", "--jwks-ca-bundle", dir.resolve("absent.pem").toString(), "dir")
                    .jwksSettings())
        .hasMessageContaining("cannot be read");
  }
}
