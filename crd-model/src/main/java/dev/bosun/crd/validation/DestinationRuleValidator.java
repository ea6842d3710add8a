package dev.bosun.crd.validation;

import java.util.HashSet;
import java.util.Set;

/** DestinationRule rules: host, subsets, traffic policies, visibility. */
final class DestinationRuleValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.host(spec.field("host"), true, out);
    Rules.exportTo(spec.field("exportTo"), false, out);
    Rules.labels(spec.field("workloadSelector").field("matchLabels"), out);
    TrafficPolicyRules.trafficPolicy(spec.field("trafficPolicy"), true, out);
    Set<String> names = new HashSet<>();
    for (DocNode subset : spec.field("subsets").items()) {
      DocNode name = subset.field("name");
      if (name.text() != null) {
        if (!Rules.isDnsLabel(name.text())) {
          out.invalid(name.path(), name.text(), "a subset name (a DNS-1123 label)");
        } else if (!names.add(name.text())) {
          out.invalid(name.path(), name.text(), "duplicate subset name", "unique subset names");
        }
      }
      Rules.labels(subset.field("labels"), out);
      TrafficPolicyRules.trafficPolicy(subset.field("trafficPolicy"), true, out);
    }
  }
}
