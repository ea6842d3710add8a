package dev.bosun.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
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
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Interoperability with grpc-java's own xDS client (an independent implementation): it bootstraps
 * against this server, fetches LDS, RDS, CDS and EDS over ADS, ACKs them, and carries a real RPC to
 * a real gRPC server on loopback.
 */
class GrpcXdsInteropTest {
  private static final String TARGET = "reviews.shop:9080";
  private static final String ROUTE = "reviews-route";
  private static final String CLUSTER = "outbound|9080||reviews.shop.svc.cluster.local";

  @Test
  void grpcXdsClient_fetchesConfig_andRoutesARealRpc() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server backend =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(health.getHealthService())
            .build()
            .start();
    FakeResources resources = new FakeResources();
    resources.put(XdsTypes.LISTENER, apiListener());
    resources.put(XdsTypes.ROUTE, route());
    resources.put(XdsTypes.CLUSTER, edsCluster());
    resources.put(XdsTypes.ENDPOINT, endpoints(backend.getPort()));
    XdsServer server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    System.setProperty(
        "io.grpc.xds.bootstrapConfig",
        """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
                          "server_features": ["xds_v3"]}],
         "node": {"id": "sidecar~127.0.0.1~client-1.shop~shop.svc.cluster.local",
                  "metadata": {"GENERATOR": "grpc"}}}
        """
            .formatted(server.port()));
    ManagedChannel channel =
        Grpc.newChannelBuilder("xds:///" + TARGET, InsecureChannelCredentials.create()).build();
    try {
      HealthCheckResponse response =
          HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .withWaitForReady()
              .check(HealthCheckRequest.getDefaultInstance());
      assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  server.syncStatus().size() == 1
                      && !server.syncStatus().toString().contains("STALE"));
      assertThat(server.syncStatus().get(0).toString())
          .contains("lds", "rds", "cds", "eds")
          .doesNotContain("NACKED");
    } finally {
      channel.shutdownNow();
      server.close();
      backend.shutdownNow();
    }
  }

  private static Listener apiListener() {
    HttpConnectionManager manager =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("reviews")
            .setRds(
                Rds.newBuilder()
                    .setRouteConfigName(ROUTE)
                    .setConfigSource(
                        ConfigSource.newBuilder()
                            .setAds(AggregatedConfigSource.getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(TARGET)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(manager)))
        .build();
  }

  private static RouteConfiguration route() {
    return RouteConfiguration.newBuilder()
        .setName(ROUTE)
        .addVirtualHosts(
            VirtualHost.newBuilder()
                .setName("reviews")
                .addDomains(TARGET)
                .addRoutes(
                    Route.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix(""))
                        .setRoute(RouteAction.newBuilder().setCluster(CLUSTER))))
        .build();
  }

  private static Cluster edsCluster() {
    return Cluster.newBuilder()
        .setName(CLUSTER)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(
            Cluster.EdsClusterConfig.newBuilder()
                .setEdsConfig(
                    ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
        .build();
  }

  private static ClusterLoadAssignment endpoints(int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(CLUSTER)
        .addEndpoints(
            LocalityLbEndpoints.newBuilder()
                .setLocality(Locality.newBuilder().setRegion("local").setZone("a"))
                .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1))
                .addLbEndpoints(
                    LbEndpoint.newBuilder()
                        .setEndpoint(
                            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                                .setAddress(
                                    Address.newBuilder()
                                        .setSocketAddress(
                                            SocketAddress.newBuilder()
                                                .setAddress("127.0.0.1")
                                                .setPortValue(port))))))
        .build();
  }
}
