package dev.bosun.controlplane.xds.scope;

import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A generator's answer for one proxy and type: the resources by name, and the warnings about config
 * that went into them (see {@link Warnings}).
 */
public record Generated(Map<String, Message> resources, List<String> warnings) {
  public Generated {
    warnings = List.copyOf(warnings);
  }

  /** Resources whose config translated without loss. */
  public static Generated of(Map<String, Message> resources) {
    return new Generated(resources, List.of());
  }

  /** {@code resources} with what {@code warnings} collected while building them. */
  public static Generated of(Map<String, Message> resources, Warnings warnings) {
    return new Generated(resources, warnings.messages());
  }

  /**
   * Only the resources {@code names} asks for, or all of them for a wildcard subscription (no
   * names); the warnings stay, since they are about config, not about one resource.
   */
  public Generated named(Set<String> names) {
    if (names.isEmpty()) {
      return this;
    }
    Map<String, Message> named = new TreeMap<>();
    for (String name : names) {
      Message message = resources.get(name);
      if (message != null) {
        named.put(name, message);
      }
    }
    return new Generated(named, warnings);
  }
}
