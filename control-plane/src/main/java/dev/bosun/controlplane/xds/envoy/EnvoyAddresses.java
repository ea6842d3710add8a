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

  /**
   * Over the ADS stream, resource API v3, as istiod points credential SDS (no initial fetch
   * timeout: a missing Secret does not hold its listener or cluster).
   */
  public static final ConfigSource ADS_V3 =
      ADS.toBuilder()
          .setResourceApiVersion(io.envoyproxy.envoy.config.core.v3.ApiVersion.V3)
          .build();

  private EnvoyAddresses() {}

  /** A TCP socket address. */
  public static Address socket(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }
}
