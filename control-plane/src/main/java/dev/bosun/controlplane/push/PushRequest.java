package dev.bosun.controlplane.push;

import dev.bosun.controlplane.config.ConfigKey;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * What changed since the last push, and so what must be regenerated: a full push (services or
 * config changed; every type may change), an endpoints-only push for a set of hosts (only EDS), or
 * a push of changed TLS Secrets ({@code namespace/name}, only the gateways' SDS). Requests merge: a
 * burst of events becomes one request.
 */
public record PushRequest(
    boolean full,
    Set<ConfigKey> configs,
    Set<String> services,
    Set<String> endpoints,
    Set<String> reasons,
    long startNanos,
    Set<String> secrets) {

  public PushRequest {
    configs = Set.copyOf(configs);
    services = Set.copyOf(services);
    endpoints = Set.copyOf(endpoints);
    reasons = Set.copyOf(reasons);
    secrets = Set.copyOf(secrets);
  }

  public PushRequest(
      boolean full,
      Set<ConfigKey> configs,
      Set<String> services,
      Set<String> endpoints,
      Set<String> reasons,
      long startNanos) {
    this(full, configs, services, endpoints, reasons, startNanos, Set.of());
  }

  /** Only TLS Secrets ({@code namespace/name}) changed. */
  public static PushRequest secrets(Set<String> secrets, String reason, long now) {
    return new PushRequest(false, Set.of(), Set.of(), Set.of(), Set.of(reason), now, secrets);
  }

  /** A config object changed. */
  public static PushRequest config(ConfigKey key, String reason, long now) {
    return new PushRequest(true, Set.of(key), Set.of(), Set.of(), Set.of(reason), now);
  }

  /** Service definitions changed (hosts added, removed, ports changed). */
  public static PushRequest services(Set<String> hosts, String reason, long now) {
    return new PushRequest(true, Set.of(), hosts, Set.of(), Set.of(reason), now);
  }

  /** Only endpoints changed. */
  public static PushRequest endpoints(Set<String> hosts, String reason, long now) {
    return new PushRequest(false, Set.of(), Set.of(), hosts, Set.of(reason), now);
  }

  /** Everything may have changed (startup, resync). */
  public static PushRequest everything(String reason, long now) {
    return new PushRequest(true, Set.of(), Set.of(), Set.of(), Set.of(reason), now);
  }

  /** This request and {@code later} as one: full if either is, changes unioned, earliest start. */
  public PushRequest merge(PushRequest later) {
    Set<ConfigKey> c = new HashSet<>(configs);
    c.addAll(later.configs);
    Set<String> s = new HashSet<>(services);
    s.addAll(later.services);
    Set<String> e = new HashSet<>(endpoints);
    e.addAll(later.endpoints);
    Set<String> r = new TreeSet<>(reasons);
    r.addAll(later.reasons);
    Set<String> t = new HashSet<>(secrets);
    t.addAll(later.secrets);
    return new PushRequest(
        full || later.full, c, s, e, r, Math.min(startNanos, later.startNanos), t);
  }
}
