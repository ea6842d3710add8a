package dev.bosun.controlplane.xds;

import java.util.Optional;

/** Envoy resource names as Istio spells them, in one place. */
public final class EnvoyNames {
  private EnvoyNames() {}

  /** A parsed {@code outbound|<port>|<subset>|<host>} cluster name. */
  public record OutboundCluster(int port, String subset, String host) {}

  /** {@code outbound|9080|v1|reviews.shop.svc.cluster.local}. */
  public static String outboundCluster(int port, String subset, String host) {
    return "outbound|" + port + "|" + (subset == null ? "" : subset) + "|" + host;
  }

  public static Optional<OutboundCluster> parseOutboundCluster(String name) {
    String[] parts = name.split("\\|", -1);
    if (parts.length != 4 || !parts[0].equals("outbound")) {
      return Optional.empty();
    }
    try {
      return Optional.of(new OutboundCluster(Integer.parseInt(parts[1]), parts[2], parts[3]));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
