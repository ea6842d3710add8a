package dev.bosun.controlplane.xds.scope;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import dev.bosun.controlplane.model.HostPattern;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.List;
import java.util.Map;
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

  /**
   * Where one piece sits in its scope: {@code host} and {@code part}, hashed once (a route
   * configuration looks up a piece per service).
   */
  private static final class Piece {
    private final String host;
    private final Object part;
    private final int hash;

    Piece(String host, Object part) {
      this.host = host;
      this.part = part;
      this.hash = 31 * host.hashCode() + part.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Piece piece
          && piece.hash == hash
          && piece.host.equals(host)
          && piece.part.equals(part);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Pieces by scope, then by host and part. */
  private final ConcurrentHashMap<Object, ConcurrentHashMap<Piece, Object>> scopes;

  private CarriedRoutes(ConcurrentHashMap<Object, ConcurrentHashMap<Piece, Object>> scopes) {
    this.scopes = scopes;
  }

  private static CarriedRoutes of(MeshSnapshot snapshot) {
    return snapshot.derived(KEY, () -> new CarriedRoutes(new ConcurrentHashMap<>()));
  }

  /**
   * The pieces of {@code scope} in {@code snapshot}: carried from an earlier snapshot where no
   * change since touched their host. Looked up once per route configuration, not per piece.
   */
  public static Pieces of(MeshSnapshot snapshot, Object scope) {
    return new Pieces(of(snapshot).scopes.computeIfAbsent(scope, s -> new ConcurrentHashMap<>()));
  }

  /** The pieces of one scope in one snapshot. */
  public static final class Pieces {
    private final ConcurrentHashMap<Piece, Object> pieces;

    private Pieces(ConcurrentHashMap<Piece, Object> pieces) {
      this.pieces = pieces;
    }

    /**
     * The piece of {@code host} for {@code part} (a port, say): carried when no change since
     * touched the host, else {@code compute}d. {@code compute} may read only what {@link
     * CarriedRoutes}' contract names.
     */
    <T> T get(String host, Object part, Supplier<T> compute) {
      Piece key = new Piece(host, part);
      @SuppressWarnings("unchecked")
      T value = (T) pieces.get(key);
      if (value != null) {
        return value;
      }
      T computed = java.util.Objects.requireNonNull(compute.get(), "route piece");
      @SuppressWarnings("unchecked")
      T raced = (T) pieces.putIfAbsent(key, computed);
      return raced != null ? raced : computed;
    }
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
      // current computed some pieces first
      kept.scopes.forEach(
          (scope, pieces) ->
              now.scopes.computeIfAbsent(scope, s -> new ConcurrentHashMap<>()).putAll(pieces));
    }
  }

  /** {@code store} less the pieces of the hosts {@code touched} names; itself when none. */
  private static CarriedRoutes without(CarriedRoutes store, Set<String> touched) {
    if (touched.isEmpty()) {
      return store;
    }
    CarriedRoutes kept = new CarriedRoutes(new ConcurrentHashMap<>());
    store.scopes.forEach(
        (scope, pieces) -> {
          ConcurrentHashMap<Piece, Object> left = new ConcurrentHashMap<>();
          pieces.forEach(
              (key, piece) -> {
                if (!touches(touched, key.host)) {
                  left.put(key, piece);
                }
              });
          kept.scopes.put(scope, left);
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
    return of(snapshot).scopes.values().stream().mapToInt(Map::size).sum();
  }
}
