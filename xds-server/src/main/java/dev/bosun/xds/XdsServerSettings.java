package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Settings of the xDS server. Defaults follow istiod: keepalive pings every 30 s with a 10 s
 * timeout, a maximum connection age so replicas rebalance, 25 new streams per second, and at most
 * 100 streams sending at once ({@code PILOT_PUSH_THROTTLE}).
 *
 * @param pushConcurrency how many streams may be sending at once (a response generated and not yet
 *     written out by gRPC); the others wait their turn in order, which bounds the memory a connect
 *     storm or a mesh-wide push holds in send buffers
 * @param turnTimeout how long a stream keeps its turn while its client does not read before the
 *     turn is passed on (a client that stops reading costs only itself)
 */
public record XdsServerSettings(
    InetSocketAddress address,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration maxConnectionAge,
    Duration maxConnectionAgeGrace,
    int maxInboundMessageBytes,
    double newStreamsPerSecond,
    int newStreamBurst,
    int pushThreads,
    int pushConcurrency,
    Duration turnTimeout) {

  public XdsServerSettings {
    requireNonNull(turnTimeout, "turnTimeout");
    if (pushConcurrency <= 0 || turnTimeout.isNegative() || turnTimeout.isZero()) {
      throw new IllegalArgumentException(
          "pushConcurrency, turnTimeout: "
              + pushConcurrency
              + ", "
              + turnTimeout
              + " (expected: both > 0)");
    }
    requireNonNull(address, "address");
    requireNonNull(keepAliveTime, "keepAliveTime");
    requireNonNull(keepAliveTimeout, "keepAliveTimeout");
    requireNonNull(maxConnectionAge, "maxConnectionAge");
    requireNonNull(maxConnectionAgeGrace, "maxConnectionAgeGrace");
    if (maxInboundMessageBytes <= 0
        || newStreamsPerSecond <= 0
        || newStreamBurst <= 0
        || pushThreads <= 0) {
      throw new IllegalArgumentException(
          "maxInboundMessageBytes, newStreamsPerSecond, newStreamBurst, pushThreads: "
              + maxInboundMessageBytes
              + ", "
              + newStreamsPerSecond
              + ", "
              + newStreamBurst
              + ", "
              + pushThreads
              + " (expected: all > 0)");
    }
  }

  /** istiod's defaults on the given address. */
  public static XdsServerSettings defaults(InetSocketAddress address) {
    return new XdsServerSettings(
        address,
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        Duration.ofMinutes(30),
        Duration.ofSeconds(10),
        4 * 1024 * 1024,
        25,
        100,
        Math.max(2, Runtime.getRuntime().availableProcessors()),
        100,
        Duration.ofSeconds(5));
  }

  public XdsServerSettings withStreamRate(double perSecond, int burst) {
    return new XdsServerSettings(
        address,
        keepAliveTime,
        keepAliveTimeout,
        maxConnectionAge,
        maxConnectionAgeGrace,
        maxInboundMessageBytes,
        perSecond,
        burst,
        pushThreads,
        pushConcurrency,
        turnTimeout);
  }

  public XdsServerSettings withPushConcurrency(int streams, Duration turnTimeout) {
    return new XdsServerSettings(
        address,
        keepAliveTime,
        keepAliveTimeout,
        maxConnectionAge,
        maxConnectionAgeGrace,
        maxInboundMessageBytes,
        newStreamsPerSecond,
        newStreamBurst,
        pushThreads,
        streams,
        turnTimeout);
  }

  public XdsServerSettings withMaxConnectionAge(Duration age) {
    return new XdsServerSettings(
        address,
        keepAliveTime,
        keepAliveTimeout,
        age,
        maxConnectionAgeGrace,
        maxInboundMessageBytes,
        newStreamsPerSecond,
        newStreamBurst,
        pushThreads,
        pushConcurrency,
        turnTimeout);
  }
}
