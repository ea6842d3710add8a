package dev.bosun.crd.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The committed CRD manifests in {@code deploy/crds/} and the chart's {@code crds/} are exactly
 * what {@link CrdManifests} renders now. Run with {@code -Dcrd.update=true} to rewrite them after a
 * deliberate change, then review the diff like code.
 */
class CrdManifestsTest {
  private static final boolean UPDATE = Boolean.getBoolean("crd.update");

  @ParameterizedTest
  @ValueSource(strings = {"../deploy/crds", "../charts/bosun/crds"})
  void committedManifests_areIdenticalToRendered(String directory) throws IOException {
    Path dir = Path.of(directory);
    if (UPDATE) {
      CrdManifests.write(dir);
    }
    Map<String, String> rendered = CrdManifests.render();
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(new TreeSet<>(files.map(f -> f.getFileName().toString()).toList()))
          .as("files in %s (regenerate with -Dcrd.update=true)", dir)
          .isEqualTo(new TreeSet<>(rendered.keySet()));
    }
    for (Map.Entry<String, String> file : rendered.entrySet()) {
      assertThat(Files.readString(dir.resolve(file.getKey())))
          .as("%s/%s is stale (regenerate with -Dcrd.update=true)", dir, file.getKey())
          .isEqualTo(file.getValue());
    }
  }
}
