package dev.bosun.controlplane.xds.envoy;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;

/** Envoy addresses and the config source that points a resource at the ADS stream. */
public final class EnvoyAddresses {
  /** Fetch over the same ADS stream. */
  public static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  private EnvoyAddresses() {}

  /** A TCP socket address. */
  public static Address socket(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }
}
