package dev.bosun.controlplane.xds.scope;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.List;
import java.util.function.Supplier;

/**
 * Each proxy's own inbound listener, carried from snapshot to snapshot across changes of
 * VirtualServices only. The inbound listener reads the proxy, the services that select it and their
 * endpoints, PeerAuthentication, AuthorizationPolicy, the Sidecar and the mesh config, never a
 * VirtualService; yet a VirtualService edit must reach LDS (outbound TCP and TLS listeners route by
 * it), and rebuilding, checking and encoding the inbound listener of every sidecar of the mesh for
 * it costs more than the edit itself. Any other change starts afresh.
 *
 * <p>Pieces are held by the proxy's view, weakly: a proxy that disconnects takes its piece along.
 */
public final class CarriedInbound {
  private static final Object KEY = List.of("carried-inbound");

  private final Cache<ProxyView, Object> pieces = CacheBuilder.newBuilder().weakKeys().build();

  private CarriedInbound() {}

  private static CarriedInbound of(MeshSnapshot snapshot) {
    return snapshot.derived(KEY, CarriedInbound::new);
  }

  /** The inbound piece of {@code proxy} in {@code snapshot}, carried or {@code compute}d. */
  static <T> T get(MeshSnapshot snapshot, ProxyView proxy, Supplier<T> compute) {
    @SuppressWarnings("unchecked")
    T value = (T) of(snapshot).pieces.asMap().computeIfAbsent(proxy, p -> compute.get());
    return value;
  }

  /**
   * Lets {@code current} share the pieces of {@code previous} when {@code change} (from one to the
   * other) touched VirtualServices only; else {@code current} starts with none.
   */
  public static void carryOver(MeshSnapshot previous, MeshSnapshot current, MeshChange change) {
    if (previous == null || previous == current || !change.onlyVirtualServices()) {
      return;
    }
    CarriedInbound kept = of(previous);
    current.derived(KEY, () -> kept);
  }

  /** How many pieces {@code snapshot} holds, for tests. */
  public static long size(MeshSnapshot snapshot) {
    return of(snapshot).pieces.size();
  }
}
