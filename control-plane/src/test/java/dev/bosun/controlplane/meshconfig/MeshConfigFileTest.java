package dev.bosun.controlplane.meshconfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mesh config file of {@code bosun local}: read at start, re-read when it changes. */
class MeshConfigFileTest {
  @TempDir Path dir;

  @Test
  void start_thenEdit_appliesBothAndKeepsTheLastGoodOnABrokenEdit() throws Exception {
    Path file = dir.resolve("mesh.yaml");
    Files.writeString(file, "connectTimeout: 2s\n");
    MeshConfigStore store = new MeshConfigStore(MeshConfigStore.Overrides.NONE);
    try (MeshConfigFile watched = new MeshConfigFile(file, store).start(Duration.ofMillis(20))) {
      assertThat(store.current().connectTimeout()).isEqualTo(Duration.ofSeconds(2));

      Files.writeString(file, "connectTimeout: never\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> store.rejects() == 1);
      assertThat(store.current().connectTimeout()).isEqualTo(Duration.ofSeconds(2));

      Files.writeString(file, "connectTimeout: 3s\n");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> store.current().connectTimeout().equals(Duration.ofSeconds(3)));
    }
  }
}
