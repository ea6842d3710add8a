package dev.bosun.e2e.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.cli.BosunCommand;
import dev.bosun.controlplane.webhook.inject.PodSelectors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The arguments the chart's Deployment gives the container are ones {@code bosun serve} accepts:
 * parsed by Bosun's own command line, so a value rendered into a flag that does not exist (or a
 * flag renamed in the code) fails the build rather than a pod's start. Values Bosun parses further
 * (the inject selectors' JSON) are parsed too.
 */
class ChartArgsTest {
  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.bosun.e2e.install.ChartTest#matrix")
  void deploymentArgs_parseAsBosunServe(String name, Map<String, Object> values) throws Exception {
    List<JsonNode> documents = Chart.documents(Chart.template("istio-system", values, false));
    List<String> args = Chart.containerArgs(documents, deploymentName(documents));
    assertThat(args).as("the container's args").isNotEmpty().first().isEqualTo("serve");

    CommandLine bosun = new CommandLine(new BosunCommand());
    assertThatCode(() -> bosun.parseArgs(args.toArray(String[]::new)))
        .as("bosun %s", String.join(" ", args))
        .doesNotThrowAnyException();
    for (String arg : args) {
      if (arg.startsWith("--injected-annotations=")) {
        assertThat(
                dev.bosun.crd.IstioJson.json()
                    .readTree(arg.substring("--injected-annotations=".length()))
                    .isObject())
            .as("%s is a JSON object", arg)
            .isTrue();
      }
      for (String selector : List.of("--never-inject-selector=", "--always-inject-selector=")) {
        if (arg.startsWith(selector)) {
          String json = arg.substring(selector.length());
          assertThatCode(() -> PodSelectors.parse(selector, json))
              .as("%s as Bosun reads it", arg)
              .doesNotThrowAnyException();
        }
      }
    }
  }

  private static String deploymentName(List<JsonNode> documents) {
    return documents.stream()
        .filter(d -> d.path("kind").asText().equals("Deployment"))
        .map(d -> d.path("metadata").path("name").asText())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no Deployment rendered"));
  }
}
