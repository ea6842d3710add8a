package dev.bosun.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import org.junit.jupiter.api.Test;

/** Envoy's PGV constraints, generated at build time, applied the way the server applies them. */
class EnvoyValidatorTest {
  private final EnvoyValidator validator = new EnvoyValidator();

  @Test
  void validCluster_passes() {
    assertThat(validator.check(FakeResources.cluster("outbound|80||a", 1))).isEmpty();
  }

  @Test
  void clusterWithNegativeConnectTimeout_violatesEnvoysConstraint() {
    Cluster cluster =
        Cluster.newBuilder()
            .setName("c")
            .setConnectTimeout(Duration.newBuilder().setSeconds(-1))
            .build();
    assertThat(validator.check(cluster))
        .hasValueSatisfying(problem -> assertThat(problem).contains("connect_timeout"));
  }

  @Test
  void recurringVirtualHosts_areCheckedOnce_butAnInvalidOneIsStillCaught() {
    VirtualHost valid =
        VirtualHost.newBuilder()
            .setName("a:80")
            .addDomains("a")
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                    .setRoute(RouteAction.newBuilder().setCluster("outbound|80||a")))
            .build();
    VirtualHost noDomains = valid.toBuilder().setName("b:80").clearDomains().build();
    RouteConfiguration first =
        RouteConfiguration.newBuilder().setName("80").addVirtualHosts(valid).build();
    RouteConfiguration second =
        RouteConfiguration.newBuilder()
            .setName("80")
            .addVirtualHosts(valid.toBuilder().build())
            .addVirtualHosts(noDomains)
            .build();

    assertThat(validator.check(first)).isEmpty();
    assertThat(validator.check(second))
        .hasValueSatisfying(problem -> assertThat(problem).contains("domains"));
    assertThat(validator.check(RouteConfiguration.newBuilder().addVirtualHosts(noDomains).build()))
        .as("a host that failed is not remembered as passed")
        .isPresent();
  }

  private static Listener listenerWith(HttpConnectionManager manager) {
    return Listener.newBuilder()
        .setName("virtualOutbound")
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(manager))))
        .build();
  }

  private static HttpConnectionManager.Builder manager() {
    return HttpConnectionManager.newBuilder()
        .addHttpFilters(
            HttpFilter.newBuilder()
                .setName("envoy.filters.http.router")
                .setTypedConfig(Any.pack(Router.getDefaultInstance())));
  }

  @Test
  void constraintsInsidePackedConfigs_areChecked() {
    assertThat(validator.check(listenerWith(manager().build())))
        .hasValueSatisfying(
            problem ->
                assertThat(problem).contains("HttpConnectionManager").contains("stat_prefix"));
    assertThat(validator.check(listenerWith(manager().setStatPrefix("outbound").build())))
        .hasValueSatisfying(
            problem -> assertThat(problem).contains("route_specifier: is required"));

    HttpConnectionManager valid =
        manager()
            .setStatPrefix("outbound")
            .setRds(
                Rds.newBuilder()
                    .setRouteConfigName("80")
                    .setConfigSource(
                        ConfigSource.newBuilder()
                            .setAds(AggregatedConfigSource.getDefaultInstance())))
            .build();
    assertThat(validator.check(listenerWith(valid))).isEmpty();
  }
}
