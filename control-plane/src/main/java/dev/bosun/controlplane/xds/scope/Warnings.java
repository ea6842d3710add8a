package dev.bosun.controlplane.xds.scope;

import dev.bosun.controlplane.snapshot.MeshSnapshot;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.helpers.MessageFormatter;

/**
 * What one generation found it could not translate as written (a field left out, a rule dropped),
 * collected while it builds resources and returned with them in {@link Generated}. Generators never
 * log; whoever serves the resources decides how to report them.
 *
 * <p>Resources shared across proxies are built once per snapshot ({@link #derived}); the warnings
 * of that one build are kept with the shared value and given again to every generation that uses
 * it, so a proxy's warnings do not depend on whether another proxy asked first.
 */
public final class Warnings implements Consumer<String> {
  private final Set<String> messages = new LinkedHashSet<>();

  /** Adds {@code format} (slf4j style, {@code {}} placeholders) with {@code args}. */
  public void add(String format, Object... args) {
    messages.add(MessageFormatter.arrayFormat(format, args).getMessage());
  }

  /** Adds one finished message. */
  @Override
  public void accept(String message) {
    messages.add(message);
  }

  /** The messages so far, each once, in the order first added. */
  public List<String> messages() {
    return List.copyOf(messages);
  }

  /**
   * The value {@code snapshot} holds under {@code key}, computed with its own warnings the first
   * time; those warnings are added here on every call.
   */
  public <T> T derived(MeshSnapshot snapshot, Object key, Function<Warnings, T> compute) {
    Built<T> built = snapshot.derived(key, () -> built(compute));
    messages.addAll(built.warnings());
    return built.value();
  }

  /**
   * As {@link #derived}, for a piece of route configuration that {@link CarriedRoutes} carries from
   * snapshot to snapshot while no change touches {@code host}.
   */
  public <T> T carried(
      CarriedRoutes.Pieces pieces, String host, Object part, Function<Warnings, T> compute) {
    Built<T> built = pieces.get(host, part, () -> built(compute));
    messages.addAll(built.warnings());
    return built.value();
  }

  /**
   * As {@link #derived}, for the proxy's own inbound listener, which {@link CarriedInbound} carries
   * across VirtualService edits.
   */
  public <T> T inbound(MeshSnapshot snapshot, ProxyView proxy, Function<Warnings, T> compute) {
    Built<T> built = CarriedInbound.get(snapshot, proxy, () -> built(compute));
    messages.addAll(built.warnings());
    return built.value();
  }

  private static <T> Built<T> built(Function<Warnings, T> compute) {
    Warnings own = new Warnings();
    T value = compute.apply(own);
    return new Built<>(value, own.messages());
  }

  private record Built<T>(T value, List<String> warnings) {}
}
