package dev.bosun.crd.validation;

import java.util.Map;

/**
 * Telemetry rules, as istiod's webhook enforces them: one way of selecting workloads; provider
 * names set; sampling 0-100; each custom tag with a non-empty source (the schema allows only one);
 * tag overrides with a value exactly when they UPSERT; custom metric names set.
 */
final class TelemetryValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.selectorOrTargetRefs(spec, "selector", out);
    for (DocNode metrics : spec.field("metrics").items()) {
      providers(metrics.field("providers"), out);
      for (DocNode override : metrics.field("overrides").items()) {
        DocNode custom = override.field("match").field("customMetric");
        if (custom.isSet() && custom.text().isEmpty()) {
          out.missing(custom.path(), "a custom metric name");
        }
        for (Map.Entry<String, DocNode> tag : override.field("tagOverrides").entries()) {
          tagOverride(tag.getValue(), out);
        }
      }
    }
    for (DocNode tracing : spec.field("tracing").items()) {
      providers(tracing.field("providers"), out);
      if (tracing.field("providers").items().size() > 1) {
        out.add(
            tracing.field("providers").path(),
            "names more than one provider (expected: at most one tracing provider)");
      }
      Rules.range(tracing.field("randomSamplingPercentage"), 0, 100, out);
      for (Map.Entry<String, DocNode> tag : tracing.field("customTags").entries()) {
        customTag(tag.getValue(), out);
      }
    }
    for (DocNode logging : spec.field("accessLogging").items()) {
      providers(logging.field("providers"), out);
    }
  }

  private static void providers(DocNode providers, Problems out) {
    for (DocNode provider : providers.items()) {
      String name = provider.field("name").text();
      if (name == null || name.isEmpty()) {
        out.missing(provider.field("name").path(), "the name of a MeshConfig extension provider");
      }
    }
  }

  private static void tagOverride(DocNode override, Problems out) {
    boolean upsert = !"REMOVE".equals(override.field("operation").text());
    String value = override.field("value").text();
    boolean hasValue = value != null && !value.isEmpty();
    if (upsert && !hasValue) {
      out.missing(override.field("value").path(), "a value (an expression) for operation UPSERT");
    } else if (!upsert && hasValue) {
      out.add(override.field("value").path(), "set with operation REMOVE (expected: no value)");
    }
  }

  private static void customTag(DocNode tag, Problems out) {
    int sources = 0;
    for (String source : new String[] {"literal", "environment", "header"}) {
      if (tag.field(source).isSet()) {
        sources++;
      }
    }
    if (sources == 0) {
      out.add(tag.path(), "has no source (expected: one of literal, environment, header)");
      return;
    }
    DocNode literal = tag.field("literal").field("value");
    if (tag.field("literal").isSet() && (literal.text() == null || literal.text().isEmpty())) {
      out.missing(literal.path(), "the literal value");
    }
    for (String source : new String[] {"environment", "header"}) {
      DocNode name = tag.field(source).field("name");
      if (tag.field(source).isSet() && (name.text() == null || name.text().isEmpty())) {
        out.missing(name.path(), "the " + source + " name");
      }
    }
  }
}
