package dev.bosun.controlplane.snapshot;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.Conflict;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Conflicts between Gateways that the proxies they select would merge. */
final class GatewayConflicts {
  private GatewayConflicts() {}

  /**
   * Two Gateways with one selector that put a TLS host on the same port and address: the gateway
   * can tell their filter chains apart by neither, so the later Gateway's server is left out there
   * (istiod does the same when merging).
   */
  static void find(List<ConfigEntry> gateways, List<Conflict> out) {
    Map<List<Object>, ConfigEntry> claimed = new HashMap<>();
    for (ConfigEntry entry : gateways) {
      io.fabric8.istio.api.api.networking.v1alpha3.Gateway spec =
          entry.spec(io.fabric8.istio.api.api.networking.v1alpha3.Gateway.class);
      if (spec.getServers() == null) {
        continue;
      }
      Set<List<Object>> own = new java.util.HashSet<>();
      for (var server : spec.getServers()) {
        if (server.getTls() == null
            || server.getPort() == null
            || server.getPort().getNumber() == null
            || server.getHosts() == null) {
          continue;
        }
        for (String host : server.getHosts()) {
          String written =
              host.startsWith("./") ? entry.key().namespace() + host.substring(1) : host;
          List<Object> key =
              List.of(
                  String.valueOf(spec.getSelector()),
                  server.getPort().getNumber(),
                  server.getBind() == null ? "" : server.getBind(),
                  written);
          ConfigEntry first = claimed.putIfAbsent(key, entry);
          if (first != null && first != entry && own.add(key)) {
            out.add(
                new Conflict(
                    "Gateway TLS host " + written + " on port " + server.getPort().getNumber(),
                    first.key(),
                    entry.key()));
          }
        }
      }
    }
  }
}
