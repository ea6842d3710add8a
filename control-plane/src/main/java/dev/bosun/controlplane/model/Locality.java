package dev.bosun.controlplane.model;

/** Where an endpoint runs: region, zone and subzone, any of which may be empty. */
public record Locality(String region, String zone, String subzone) {
  public static final Locality UNKNOWN = new Locality("", "", "");

  public Locality {
    region = region == null ? "" : region;
    zone = zone == null ? "" : zone;
    subzone = subzone == null ? "" : subzone;
  }

  /** Istio's {@code region/zone/subzone} form, e.g. {@code us-east1/us-east1-b/}. */
  public static Locality parse(String label) {
    if (label == null || label.isEmpty()) {
      return UNKNOWN;
    }
    String[] parts = label.split("/", 3);
    return new Locality(
        parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : "");
  }

  @Override
  public String toString() {
    return region + "/" + zone + "/" + subzone;
  }
}
