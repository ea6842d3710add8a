package dev.bosun.xds;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Settings of the xDS server. Defaults follow istiod: keepalive pings every 30 s with a 10 s
 * timeout, a maximum connection age so replicas rebalance, 25 new streams per second.
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
    int pushThreads) {

  public XdsServerSettings {
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
        Math.max(2, Runtime.getRuntime().availableProcessors()));
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
        pushThreads);
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
        pushThreads);
  }
}
