package dev.bosun.controlplane.model;

import static java.util.Objects.requireNonNull;

/** One port of a service: its name, number and the protocol Istio selects for it. */
public record ServicePort(String name, int port, Protocol protocol) {
  public ServicePort {
    requireNonNull(name, "name");
    requireNonNull(protocol, "protocol");
  }
}
