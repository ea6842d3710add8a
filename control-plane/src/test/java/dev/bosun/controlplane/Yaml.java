package dev.bosun.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;

/** Reads one YAML document into a tree, for tests. */
public final class Yaml {
  private Yaml() {}

  public static JsonNode doc(String yaml) {
    try {
      return IstioJson.yaml().readTree(yaml);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
