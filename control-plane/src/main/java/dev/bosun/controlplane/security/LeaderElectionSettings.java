package dev.bosun.controlplane.security;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.UUID;

/**
 * Where the Lease lives, who this replica claims to be, and how fast the election moves.
 *
 * <p>The rules checked here are the ones fabric8's elector enforces, plus one of the Lease itself
 * (it stores its duration in whole seconds), so a bad setting is rejected when Bosun starts instead
 * of when the first election runs.
 *
 * @param namespace the namespace holding the Lease, normally Bosun's own
 * @param leaseName the Lease's name; replicas sharing it elect one leader among themselves
 * @param identity this replica's holder identity, unique per process
 * @param leaseDuration how long a lease stays valid after its last renewal
 * @param renewDeadline how long the leader keeps trying to renew before it gives up leading
 * @param retryPeriod the pause between two attempts to acquire or renew
 */
public record LeaderElectionSettings(
    String namespace,
    String leaseName,
    String identity,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod) {

  /** The Lease name Bosun's namespace controller (the root certificate publisher) elects on. */
  public static final String DEFAULT_LEASE_NAME = "bosun-namespace-controller";

  /** fabric8 waits between {@code retryPeriod} and this many times more before each attempt. */
  private static final double JITTER = 1.2;

  public LeaderElectionSettings {
    requireNonNull(namespace, "namespace");
    requireNonNull(leaseName, "leaseName");
    requireNonNull(identity, "identity");
    requireNonNull(leaseDuration, "leaseDuration");
    requireNonNull(renewDeadline, "renewDeadline");
    requireNonNull(retryPeriod, "retryPeriod");
    if (namespace.isBlank() || leaseName.isBlank() || identity.isBlank()) {
      throw new IllegalArgumentException(
          "namespace: '%s', leaseName: '%s', identity: '%s' (expected: none blank)"
              .formatted(namespace, leaseName, identity));
    }
    if (leaseDuration.toMillis() % 1000 != 0 || leaseDuration.toSeconds() < 1) {
      throw new IllegalArgumentException(
          "leaseDuration: %s (expected: whole seconds, at least 1s; a Lease stores seconds)"
              .formatted(leaseDuration));
    }
    if (retryPeriod.toMillis() < 1) {
      throw new IllegalArgumentException(
          "retryPeriod: %s (expected: at least 1ms)".formatted(retryPeriod));
    }
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException(
          "renewDeadline: %s (expected: < leaseDuration %s, so a leader that cannot renew stops"
                  .formatted(renewDeadline, leaseDuration)
              + " before another replica may take over)");
    }
    if (renewDeadline.toMillis() <= retryPeriod.toMillis() * (1 + JITTER)) {
      throw new IllegalArgumentException(
          "renewDeadline: %s (expected: > %.1f x retryPeriod %s)"
              .formatted(renewDeadline, 1 + JITTER, retryPeriod));
    }
  }

  /**
   * Bosun's defaults in {@code namespace}: Lease {@value #DEFAULT_LEASE_NAME}, 30 s lease, 20 s
   * renew deadline, 5 s retry, identity from {@link #defaultIdentity()}.
   */
  public static LeaderElectionSettings defaults(String namespace) {
    return new LeaderElectionSettings(
        namespace,
        DEFAULT_LEASE_NAME,
        defaultIdentity(),
        Duration.ofSeconds(30),
        Duration.ofSeconds(20),
        Duration.ofSeconds(5));
  }

  /** The same settings electing on another Lease. */
  public LeaderElectionSettings withLeaseName(String leaseName) {
    return new LeaderElectionSettings(
        namespace, leaseName, identity, leaseDuration, renewDeadline, retryPeriod);
  }

  /** The same settings with another holder identity. */
  public LeaderElectionSettings withIdentity(String identity) {
    return new LeaderElectionSettings(
        namespace, leaseName, identity, leaseDuration, renewDeadline, retryPeriod);
  }

  /** The same settings with other timings. */
  public LeaderElectionSettings withTimings(
      Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
    return new LeaderElectionSettings(
        namespace, leaseName, identity, leaseDuration, renewDeadline, retryPeriod);
  }

  /**
   * The pod name ({@code POD_NAME}, else {@code HOSTNAME}, else the host name) followed by a random
   * suffix: the name tells people which pod leads, the suffix keeps a restarted container from
   * mistaking its predecessor's lease for its own.
   */
  public static String defaultIdentity() {
    String name = System.getenv("POD_NAME");
    if (name == null || name.isBlank()) {
      name = System.getenv("HOSTNAME");
    }
    if (name == null || name.isBlank()) {
      try {
        name = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        name = "bosun";
      }
    }
    return name + "_" + UUID.randomUUID().toString().substring(0, 8);
  }
}
