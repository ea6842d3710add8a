package dev.bosun.controlplane.validate;

import dev.bosun.crd.validation.ConfigValidator;
import dev.bosun.crd.validation.ValidationResult;
import dev.bosun.crd.yaml.YamlDocument;
import dev.bosun.crd.yaml.YamlDocuments;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads YAML files and directories and validates every document in them; the work behind {@code
 * bosun validate}. Problems go to one sink, unreadable paths to another.
 */
public final class ManifestCheck {
  private ManifestCheck() {}

  /** Counts of what was checked, and the exit code they imply. */
  public record Summary(int files, int valid, int invalid, int skipped, int unreadable) {
    /** 0 all valid, 1 any invalid or malformed, 2 any path unreadable. */
    public int exitCode() {
      if (unreadable > 0) {
        return 2;
      }
      return invalid > 0 ? 1 : 0;
    }

    @Override
    public String toString() {
      return String.format(
          "checked %d file%s: %d valid, %d invalid, %d skipped (not an Istio kind Bosun owns)%s",
          files,
          files == 1 ? "" : "s",
          valid,
          invalid,
          skipped,
          unreadable == 0 ? "" : ", " + unreadable + " unreadable");
    }
  }

  public static Summary check(
      List<Path> paths, Consumer<String> problems, Consumer<String> errors) {
    int files = 0;
    int valid = 0;
    int invalid = 0;
    int skipped = 0;
    int unreadable = 0;
    for (Path path : paths) {
      List<Path> found;
      try {
        found = files(path);
      } catch (IOException e) {
        errors.accept(path + ": cannot read: " + describe(e));
        unreadable++;
        continue;
      }
      for (Path file : found) {
        String text;
        try {
          text = readUtf8(file);
        } catch (IOException e) {
          errors.accept(file + ": cannot read: " + describe(e));
          unreadable++;
          continue;
        }
        files++;
        for (YamlDocument document : YamlDocuments.parse(file.toString(), text)) {
          if (document.error().isPresent()) {
            problems.accept(document.location() + ": " + document.error().get());
            invalid++;
            continue;
          }
          ValidationResult result = ConfigValidator.validate(document.tree().get());
          if (!result.owned()) {
            skipped++;
          } else if (result.valid()) {
            valid++;
          } else {
            invalid++;
            result.messages().forEach(m -> problems.accept(document.location() + ": " + m));
          }
        }
      }
    }
    return new Summary(files, valid, invalid, skipped, unreadable);
  }

  private static List<Path> files(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new java.nio.file.NoSuchFileException(path.toString());
    }
    if (!Files.isDirectory(path)) {
      return List.of(path);
    }
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> files = new ArrayList<>();
      walk.filter(Files::isRegularFile)
          .filter(ManifestCheck::isManifest)
          .sorted()
          .forEach(files::add);
      return files;
    }
  }

  private static boolean isManifest(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }

  private static String readUtf8(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IOException("not UTF-8 text", e);
    }
  }

  private static String describe(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
