package dev.bosun.controlplane.xds.scope;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.Set;

/**
 * One xDS type for one kind of client: its resources for a proxy from one snapshot, and whether a
 * change concerns that proxy's resources of the type at all. A push regenerates a type only for the
 * proxies whose generator says it does, so the answer must never be "no" where the resources may
 * differ; "yes" where they do not costs only the regeneration.
 */
public interface TypeGenerator {
  /** The type URL of what it generates. */
  String typeUrl();

  /**
   * The proxy's resources of this type from {@code snapshot}: those named, or every one for a
   * wildcard subscription (empty {@code names}) where the type allows it, with the warnings about
   * the config they were built from.
   */
  Generated generate(MeshSnapshot snapshot, ProxyView proxy, Set<String> names);

  /** Whether {@code change} may change this type's resources of {@code proxy}. */
  boolean concerns(MeshChange change, ProxyView proxy);
}
