package dev.bosun.crd.validation;

/**
 * ProxyConfig rules, as istiod's webhook enforces them: valid selector labels, concurrency >= 0.
 */
final class ProxyConfigValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.labels(spec.field("selector").field("matchLabels"), out);
    Rules.nonNegative(spec.field("concurrency"), out);
  }
}
