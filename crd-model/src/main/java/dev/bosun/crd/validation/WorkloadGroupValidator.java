package dev.bosun.crd.validation;

/**
 * WorkloadGroup rules, as istiod's webhook enforces them: a template (its address may be left out:
 * each registered VM fills it in), valid metadata labels, and a probe with no negative counts and
 * an HTTP scheme istiod knows.
 */
final class WorkloadGroupValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    if (!spec.field("template").isSet()) {
      out.missing(spec.field("template").path(), "a WorkloadEntry template");
    }
    Rules.labels(spec.field("metadata").field("labels"), out);
    Rules.labels(spec.field("template").field("labels"), out);
    DocNode probe = spec.field("probe");
    for (String field :
        new String[] {
          "periodSeconds",
          "initialDelaySeconds",
          "timeoutSeconds",
          "successThreshold",
          "failureThreshold"
        }) {
      Rules.nonNegative(probe.field(field), out);
    }
    String scheme = probe.field("httpGet").field("scheme").text();
    if (scheme != null && !scheme.isEmpty() && !scheme.equals("HTTP") && !scheme.equals("HTTPS")) {
      out.invalid(probe.field("httpGet").field("scheme").path(), scheme, "HTTP or HTTPS");
    }
  }
}
