package dev.bosun.crd.validation;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** DestinationRule rules: host, subsets, traffic policies, visibility. */
final class DestinationRuleValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    validate(spec, null, out);
  }

  @Override
  public void validate(DocNode spec, String namespace, Problems out) {
    Rules.host(spec.field("host"), true, out);
    Rules.exportTo(spec.field("exportTo"), false, out);
    if (spec.field("workloadSelector").isSet()) {
      selectedExportTo(spec.field("exportTo"), namespace, out);
    }
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

  /**
   * A rule that selects workloads applies only to those of its own namespace, so istiod refuses an
   * {@code exportTo} beyond it (and a list of more than the namespace itself). Without a namespace
   * in the document only {@code "."} is known to be the object's own.
   */
  private static void selectedExportTo(DocNode exportTo, String namespace, Problems out) {
    List<DocNode> entries = exportTo.strings();
    if (entries.isEmpty()) {
      return;
    }
    Set<String> targets = new LinkedHashSet<>();
    boolean own = false;
    for (DocNode entry : entries) {
      String value = entry.text();
      boolean self = value.equals(".") || value.equals(namespace);
      own |= self;
      targets.add(self ? "." : value);
    }
    if (!own) {
      out.invalid(
          exportTo.path(),
          String.join(",", targets),
          "a DestinationRule with a workloadSelector exported beyond its own namespace",
          "\".\" (its own namespace) only");
    } else if (targets.size() > 1) {
      out.invalid(
          exportTo.path(),
          String.join(",", targets),
          "a DestinationRule with a workloadSelector exported to more than its own namespace",
          "\".\" (its own namespace) alone");
    }
  }
}
