package dev.bosun.controlplane.mesh;

import dev.bosun.controlplane.model.Endpoint;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.List;

/**
 * Whether new endpoints of a host change its clusters, not only their load assignments: then an
 * endpoints-only change must become a full push. The generators know what their clusters read from
 * endpoints, so they supply this; the mesh model only asks, and stays independent of them.
 */
@FunctionalInterface
public interface ClusterChangeFilter {
  /**
   * Whether {@code endpoints}, replacing the endpoints {@code host} has in {@code previous}, change
   * what its clusters carry. Config and services are those of {@code previous}: a change to either
   * is a full push already.
   */
  boolean changesClusters(MeshSnapshot previous, String host, List<Endpoint> endpoints);
}
