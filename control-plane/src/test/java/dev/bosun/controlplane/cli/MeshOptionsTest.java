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
}
