package dev.bosun.crd;

import dev.bosun.crd.yaml.YamlDocument;
import dev.bosun.crd.yaml.YamlDocuments;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The test corpus of realistic, valid Istio YAML under {@code src/test/resources/corpus/valid}. */
public final class Corpus {
  public static final Path VALID = Path.of("src/test/resources/corpus/valid");

  private Corpus() {}

  /** Every document of every corpus file, in file order. */
  public static List<YamlDocument> validDocuments() {
    List<YamlDocument> documents = new ArrayList<>();
    try (Stream<Path> files = Files.list(VALID)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        documents.addAll(
            YamlDocuments.parse(VALID.relativize(file).toString(), Files.readString(file)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (documents.isEmpty()) {
      throw new IllegalStateException("no corpus documents under " + VALID.toAbsolutePath());
    }
    return documents;
  }
}
