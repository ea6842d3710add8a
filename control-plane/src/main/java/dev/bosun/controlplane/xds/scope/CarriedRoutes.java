package dev.bosun.controlplane.xds.scope;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import dev.bosun.controlplane.model.HostPattern;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Pieces of route configuration that outlive their snapshot: the virtual host of one service in the
 * route configuration of one scope. A virtual host reads only the service, the VirtualService that
 * applies to its host and the DestinationRules of the hosts it routes to; so each snapshot starts
 * with the pieces of the one before it, less those of the hosts its change touches ({@link
 * MeshChange#routeHosts}). A VirtualService edit then rebuilds one virtual host in each route
 * configuration instead of all of them. A change of services, or of a kind whose effect is not
 * traced, starts afresh; so does a snapshot nobody carried anything into.
 *
 * <p>Pieces are held until such a fresh start, also for scopes no proxy has any more: at most one
 * per scope, host and port the mesh had since its services last changed.
 */
public final class CarriedRoutes {
  private static final Object KEY = List.of("carried-routes");

  /**
   * Equal pieces of different scopes as one instance, so that checks and encodings keyed by message
   * content find them by reference instead of comparing them field by field.
   */
  private static final Interner<Object> SHARED = Interners.newWeakInterner();

  /** One piece: of {@code host}, in the configuration of {@code scope}, for {@code part}. */
  private record Key(Object scope, String host, Object part) {}

  private final ConcurrentHashMap<Key, Object> pieces;

  private CarriedRoutes(ConcurrentHashMap<Key, Object> pieces) {
    this.pieces = pieces;
  }

  private static CarriedRoutes of(MeshSnapshot snapshot) {
    return snapshot.derived(KEY, () -> new CarriedRoutes(new ConcurrentHashMap<>()));
  }

  /**
   * The piece of {@code host} for {@code scope} and {@code part} (a port, say) in {@code snapshot}:
   * carried from an earlier snapshot when no change since touched the host, else {@code compute}d.
   * {@code compute} may read only what this class's contract names.
   */
  static <T> T get(
      MeshSnapshot snapshot, Object scope, String host, Object part, Supplier<T> compute) {
    Key key = new Key(scope, host, part);
    CarriedRoutes carried = of(snapshot);
    @SuppressWarnings("unchecked")
    T value = (T) carried.pieces.get(key);
    if (value != null) {
      return value;
    }
    T computed = java.util.Objects.requireNonNull(compute.get(), "route piece");
    @SuppressWarnings("unchecked")
    T raced = (T) carried.pieces.putIfAbsent(key, computed);
    return raced != null ? raced : computed;
  }

  /** {@code piece}, or an equal one already in use. */
  @SuppressWarnings("unchecked")
  public static <T> T shared(T piece) {
    return (T) SHARED.intern(piece);
  }

  /**
   * Carries the pieces of {@code previous} that {@code change} (from {@code previous} to {@code
   * current}) leaves right into {@code current}. When it touches no route at all, the two snapshots
   * share one store: what either computes is right for both.
   */
  public static void carryOver(MeshSnapshot previous, MeshSnapshot current, MeshChange change) {
    if (previous == null || previous == current || change.everything()) {
      return;
    }
    CarriedRoutes kept = without(of(previous), change.routeHosts());
    CarriedRoutes now = current.derived(KEY, () -> kept);
    if (now != kept) {
      kept.pieces.forEach(now.pieces::putIfAbsent); // current computed some pieces first
    }
  }

  /** {@code store} less the pieces of the hosts {@code touched} names; itself when none. */
  private static CarriedRoutes without(CarriedRoutes store, Set<String> touched) {
    if (touched.isEmpty()) {
      return store;
    }
    CarriedRoutes kept = new CarriedRoutes(new ConcurrentHashMap<>());
    store.pieces.forEach(
        (key, piece) -> {
          if (!touches(touched, key.host())) {
            kept.pieces.put(key, piece);
          }
        });
    return kept;
  }

  private static boolean touches(Set<String> patterns, String host) {
    for (String pattern : patterns) {
      if (HostPattern.matches(pattern, host)) {
        return true;
      }
    }
    return false;
  }

  /** How many pieces {@code snapshot} holds, for tests and benchmarks. */
  public static int size(MeshSnapshot snapshot) {
    return of(snapshot).pieces.size();
  }
}
