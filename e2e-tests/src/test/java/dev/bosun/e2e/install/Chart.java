package dev.bosun.e2e.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import dev.bosun.crd.IstioJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The chart in {@code charts/bosun}, rendered through Helm itself (helm-java). */
public final class Chart {
  public static final Path DIR = locate();

  private Chart() {}

  private static Path locate() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path chart = dir.resolve("charts/bosun");
      if (Files.isRegularFile(chart.resolve("Chart.yaml"))) {
        return chart;
      }
    }
    throw new IllegalStateException("charts/bosun not found above " + Path.of("").toAbsolutePath());
  }

  /** {@code helm template} of the chart as release {@code bosun} in {@code namespace}. */
  public static String template(String namespace, Map<String, Object> values, boolean crds) {
    TemplateCommand template = new Helm(DIR).template().withName("bosun").withNamespace(namespace);
    if (!crds) {
      template.skipCrds();
    }
    values.forEach(template::set);
    return template.call();
  }

  /** The documents of a rendering, as JSON trees (empty documents left out). */
  public static List<JsonNode> documents(String rendered) throws IOException {
    List<JsonNode> documents = new ArrayList<>();
    try (var parser = IstioJson.yaml().getFactory().createParser(rendered)) {
      var values = IstioJson.yaml().readValues(parser, JsonNode.class);
      while (values.hasNext()) {
        JsonNode document = values.next();
        if (document != null && !document.isNull() && !document.isEmpty()) {
          documents.add(document);
        }
      }
    }
    return documents;
  }

  /** The arguments of the first container of Deployment {@code deployment}. */
  public static List<String> containerArgs(List<JsonNode> documents, String deployment) {
    List<String> args = new ArrayList<>();
    find(documents, "Deployment", deployment)
        .path("spec")
        .path("template")
        .path("spec")
        .path("containers")
        .get(0)
        .path("args")
        .forEach(arg -> args.add(arg.asText()));
    return args;
  }

  /** The document of {@code kind} named {@code name}. */
  public static JsonNode find(List<JsonNode> documents, String kind, String name) {
    return documents.stream()
        .filter(d -> d.path("kind").asText().equals(kind))
        .filter(d -> d.path("metadata").path("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " rendered"));
  }
}
