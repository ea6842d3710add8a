package dev.bosun.crd.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import dev.bosun.crd.schema.CrdPatterns;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({
    "1.5s, PT1.5S",
    "300ms, PT0.3S",
    "1m, PT1M",
    "1h, PT1H",
    "1h30m, PT1H30M",
    "0.25s, PT0.25S",
    "10us, PT0.00001S",
    "0, PT0S",
    "0s, PT0S",
    "-2s, PT-2S",
  })
  void parse_acceptsIstioAndGoSyntax(String text, String expected) {
    assertThat(Durations.parse(text)).contains(Duration.parse(expected));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5 seconds", "5", "s", "1.2.3s", "10d", "", "1 s", "PT1S", ".s", "1sm"})
  void parse_rejectsAnythingElse(String text) {
    assertThat(Durations.parse(text)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1.5s",
        "300ms",
        "1m",
        "1h30m",
        "0",
        "10us",
        "1.5 seconds",
        "5",
        "10d",
        "-2s",
        "1sm"
      })
  void crdPattern_agreesWithParser_onNonNegativeDurations(String text) {
    boolean parses = Durations.parse(text).filter(d -> !d.isNegative()).isPresent();
    assertThat(Pattern.matches(CrdPatterns.DURATION, text)).as(text).isEqualTo(parses);
  }
}
