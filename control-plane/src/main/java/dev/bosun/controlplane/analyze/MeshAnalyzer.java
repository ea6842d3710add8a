package dev.bosun.controlplane.analyze;

import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigStore;
import dev.bosun.controlplane.config.Conflict;
import dev.bosun.controlplane.model.GatewayName;
import dev.bosun.controlplane.snapshot.ConfigIndex;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.Destination;
import io.fabric8.istio.api.api.networking.v1alpha3.VirtualService;
import java.util.ArrayList;
import java.util.List;

/**
 * A few of istiod's analyzers, with their codes and levels, over one snapshot: objects the
 * validator refused (IST0106 SchemaValidationError), VirtualService destinations whose host, subset
 * or gateway does not exist (IST0101 ReferencedResourceNotFound), and objects that lose to another
 * claiming the same thing (IST0109 ConflictingMeshGatewayVirtualServiceHosts for mesh
 * VirtualServices; other conflicts as Bosun reports them, as warnings).
 */
public final class MeshAnalyzer {
  /** One finding, printed as istioctl prints it. */
  public record Finding(Level level, String code, String object, String message) {
    @Override
    public String toString() {
      return "%s [%s] (%s) %s".formatted(level.label, code, object, message);
    }
  }

  /** istioctl's levels. */
  public enum Level {
    ERROR("Error"),
    WARNING("Warning");

    private final String label;

    Level(String label) {
      this.label = label;
    }
  }

  private MeshAnalyzer() {}

  public static List<Finding> analyze(MeshSnapshot snapshot, ConfigStore store) {
    List<Finding> findings = new ArrayList<>();
    for (ConfigStore.Rejection rejection : store.rejected()) {
      String object = object(rejection.key());
      for (String message : rejection.messages()) {
        String problem =
            message.startsWith(object + ": ") ? message.substring(object.length() + 2) : message;
        findings.add(
            new Finding(Level.ERROR, "IST0106", object, "Schema validation error: " + problem));
      }
    }
    for (ConfigEntry entry : snapshot.config().list(IstioKind.VIRTUAL_SERVICE)) {
      referenced(snapshot, entry, findings);
    }
    for (Conflict conflict : snapshot.conflicts()) {
      boolean meshHosts =
          conflict.loser().kind() == IstioKind.VIRTUAL_SERVICE
              && conflict.what().startsWith("VirtualService host");
      findings.add(
          new Finding(
              meshHosts ? Level.ERROR : Level.WARNING,
              meshHosts ? "IST0109" : "BOSUN0001",
              object(conflict.loser()),
              conflict.toString()));
    }
    return findings;
  }

  private static void referenced(MeshSnapshot snapshot, ConfigEntry entry, List<Finding> findings) {
    VirtualService spec = entry.spec(VirtualService.class);
    String namespace = entry.key().namespace();
    for (Destination destination : ConfigIndex.destinations(spec)) {
      String written = destination.getHost();
      String host = snapshot.config().qualify(written, namespace);
      if (host.startsWith("*")) {
        continue;
      }
      if (snapshot.service(host).isEmpty()) {
        findings.add(
            new Finding(
                Level.ERROR,
                "IST0101",
                object(entry.key()),
                "Referenced host not found: \"" + written + "\""));
        continue;
      }
      String subset = destination.getSubset();
      if (subset != null
          && !subset.isEmpty()
          && !snapshot.config().subsetNames(host).contains(subset)) {
        findings.add(
            new Finding(
                Level.ERROR,
                "IST0101",
                object(entry.key()),
                "Referenced host+subset in destinationrule not found: \""
                    + written
                    + "+"
                    + subset
                    + "\""));
      }
    }
    for (String gateway : list(spec.getGateways())) {
      if (gateway == null || gateway.equals("mesh")) {
        continue;
      }
      String qualified = GatewayName.resolve(gateway, namespace);
      int slash = qualified.indexOf('/');
      if (slash > 0
          && snapshot
              .config()
              .gateway(qualified.substring(0, slash), qualified.substring(slash + 1))
              .isEmpty()) {
        findings.add(
            new Finding(
                Level.ERROR,
                "IST0101",
                object(entry.key()),
                "Referenced gateway not found: \"" + gateway + "\""));
      }
    }
  }

  private static String object(dev.bosun.controlplane.config.ConfigKey key) {
    return key.kind().kind() + " " + key.namespace() + "/" + key.name();
  }

  private static <T> List<T> list(List<T> list) {
    return list == null ? List.of() : list;
  }
}
