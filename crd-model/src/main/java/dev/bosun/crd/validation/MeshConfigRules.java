package dev.bosun.crd.validation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The rules MeshConfig shares with the Istio kinds, for the mesh config parser: a mesh-wide {@code
 * localityLbSetting} is checked as a DestinationRule's is, and the {@code default*ExportTo} lists
 * as an {@code exportTo}. Paths start at the MeshConfig field ({@code
 * localityLbSetting.failover[0]}).
 */
public final class MeshConfigRules {
  private MeshConfigRules() {}

  /** Problems of a mesh-wide {@code localityLbSetting}. */
  public static List<Violation> localityLbSetting(JsonNode setting) {
    Problems out = new Problems();
    TrafficPolicyRules.locality(DocNode.of(setting, FieldPath.root("localityLbSetting")), out);
    return out.violations();
  }

  /**
   * Problems of a {@code default*ExportTo} list named {@code field}; {@code "~"} is allowed, since
   * hiding objects by default is what such a default is for.
   */
  public static List<Violation> exportTo(String field, JsonNode values) {
    Problems out = new Problems();
    Rules.exportTo(DocNode.of(values, FieldPath.root(field)), true, out);
    return out.violations();
  }
}
