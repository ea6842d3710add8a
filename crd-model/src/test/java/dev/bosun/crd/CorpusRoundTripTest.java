package dev.bosun.crd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.validation.ConfigValidator;
import dev.bosun.crd.validation.ValidationResult;
import dev.bosun.crd.yaml.YamlDocument;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every corpus document is valid, reads into the model, and writes back losing nothing. */
class CorpusRoundTripTest {

  static Stream<Arguments> documents() {
    return Corpus.validDocuments().stream().map(d -> Arguments.of(d.location(), d));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void corpusDocument_isValid(String location, YamlDocument document) {
    assertThat(document.error()).as(location).isEmpty();
    ValidationResult result = ConfigValidator.validate(document.tree().get());
    assertThat(result.kind()).as("an Istio kind Bosun owns").isPresent();
    assertThat(result.messages()).as(location).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documents")
  void corpusDocument_roundTripsThroughModel_losesNothing(String location, YamlDocument document) {
    JsonNode original = document.tree().get();
    IstioKind kind =
        IstioKind.of(original.get("apiVersion").asText(), original.get("kind").asText())
            .orElseThrow();
    IstioKind.Version version = kind.version(original.get("apiVersion").asText()).orElseThrow();

    var resource = IstioJson.toResource(version, original);
    assertThat(resource).isInstanceOf(version.resourceClass());
    JsonNode written = IstioJson.toTree(resource);

    assertThat(written.equals(NUMERIC_EQUALITY, original))
        .as("%s%n  read:  %s%n  wrote: %s", location, original, written)
        .isTrue();
  }

  @Test
  void corpus_coversEveryKindInEveryVersion() {
    Set<String> seen = new HashSet<>();
    Set<IstioKind> kinds = EnumSet.noneOf(IstioKind.class);
    for (YamlDocument document : Corpus.validDocuments()) {
      JsonNode tree = document.tree().orElseThrow();
      seen.add(tree.get("apiVersion").asText() + " " + tree.get("kind").asText());
      IstioKind.of(tree.get("apiVersion").asText(), tree.get("kind").asText())
          .ifPresent(kinds::add);
    }
    for (IstioKind kind : IstioKind.values()) {
      for (IstioKind.Version version : kind.versions()) {
        assertThat(seen).contains(kind.apiVersion(version.name()) + " " + kind.kind());
      }
    }
    assertThat(kinds).containsExactlyInAnyOrder(IstioKind.values());
  }

  /** YAML {@code 50} and a model's {@code 50.0} are the same number. */
  private static final Comparator<JsonNode> NUMERIC_EQUALITY =
      (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
          return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
      };
}
