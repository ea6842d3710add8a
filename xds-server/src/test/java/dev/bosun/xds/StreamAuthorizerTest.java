package dev.bosun.xds;

import static dev.bosun.xds.AdsClient.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The second port's authorizer sees the call's headers and the node, once per stream; a refusal
 * ends only that stream, and the first port never asks.
 */
class StreamAuthorizerTest {
  private static final Metadata.Key<String> TEAM =
      Metadata.Key.of("x-team", Metadata.ASCII_STRING_MARSHALLER);
  private final FakeResources resources = new FakeResources();
  private XdsServer server;
  private int securePort;

  @BeforeEach
  void start() throws Exception {
    resources.put(XdsTypes.CLUSTER, FakeResources.cluster("a", 1));
    server =
        new XdsServer(
                XdsServerSettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                    .withStreamRate(1000, 1000),
                resources,
                new SimpleMeterRegistry(),
                System::nanoTime)
            .start();
    server.setReady(true);
    StreamAuthorizer onlyShopTeam =
        (headers, node) -> {
          if (node.getId().contains("explode")) {
            throw new IllegalStateException("authorizer bug");
          }
          return "shop".equals(headers.get(TEAM)) && node.getId().endsWith(".shop")
              ? null
              : Status.PERMISSION_DENIED.withDescription("not yours: " + node.getId());
        };
    securePort =
        server.startSecure(
            new InetSocketAddress("127.0.0.1", 0),
            InsecureServerCredentials.create(),
            onlyShopTeam,
            List.of());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Node node(String id) {
    return Node.newBuilder().setId(id).build();
  }

  private AdsClient client(int port, String team) {
    AdsClient client = new AdsClient(port);
    if (team != null) {
      Metadata headers = new Metadata();
      headers.put(TEAM, team);
      return client.withHeaders(headers);
    }
    return client;
  }

  @Test
  void acceptedStream_isServed_refusedStream_endsWithTheAuthorizersStatus() throws Exception {
    try (AdsClient allowed = client(securePort, "shop").sotw();
        AdsClient wrongTeam = client(securePort, "cart").sotw();
        AdsClient buggy = client(securePort, "shop").delta()) {
      allowed.send(
          request(XdsTypes.CLUSTER, "", "", List.of()).toBuilder().setNode(node("p.shop")).build());
      wrongTeam.send(
          request(XdsTypes.CLUSTER, "", "", List.of()).toBuilder().setNode(node("p.shop")).build());
      buggy.send(
          DeltaDiscoveryRequest.newBuilder()
              .setNode(node("explode.shop"))
              .setTypeUrl(XdsTypes.CLUSTER)
              .build());

      assertThat(allowed.received.poll(10, TimeUnit.SECONDS)).isInstanceOf(DiscoveryResponse.class);
      Status refused = (Status) wrongTeam.received.poll(10, TimeUnit.SECONDS);
      assertThat(refused.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(refused.getDescription()).isEqualTo("not yours: p.shop");
      Status failed = (Status) buggy.received.poll(10, TimeUnit.SECONDS);
      assertThat(failed.getCode()).isEqualTo(Status.Code.INTERNAL);
      assertThat(failed.getDescription()).isEqualTo("cannot authorize node explode.shop");
    }
  }

  @Test
  void plaintextPort_doesNotAuthorize() throws Exception {
    try (AdsClient anyone = client(server.port(), null).sotw()) {
      anyone.send(
          request(XdsTypes.CLUSTER, "", "", List.of()).toBuilder().setNode(node("p.cart")).build());
      assertThat(anyone.received.poll(10, TimeUnit.SECONDS)).isInstanceOf(DiscoveryResponse.class);
    }
  }
}
