package dev.bosun.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.security.TokenReviews;
import dev.bosun.controlplane.xds.RawAdsClient;
import dev.bosun.crd.IstioJson;
import dev.bosun.xds.EnvoyValidator;
import dev.bosun.xds.XdsTypes;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ingress the Istio way against {@code bosun serve}: a gateway Service (80 to 8080, 443 to 8443)
 * whose endpoint is the gateway, a Gateway selecting {@code istio: ingressgateway} with an HTTP and
 * an HTTPS server, a VirtualService bound to it, and the HTTPS certificate in a Secret of the
 * gateway's namespace. A raw ADS stream presenting the stock gateway's router node over the secure
 * port, with its service account's token, gets the listeners, routes and certificate istiod would
 * send; a certificate rotation then sends it the Secret alone. On a real API server this also
 * proves Bosun's Secret informer works under the chart's roles' rules.
 */
@EnableKubernetesMockClient(crud = true)
class GatewayScenarioTest {
  KubernetesClient client;
  KubernetesMockServer server;
  private MeshWorld world;

  private static final String GATEWAY_IP = "10.44.0.2";

  @AfterEach
  void stop() throws Exception {
    world.close();
  }

  private Node node() {
    return Node.newBuilder()
        .setId(
            "router~%s~ingress-7c9d5f8b4-k2m4q.%s~%s.svc.cluster.local"
                .formatted(GATEWAY_IP, world.namespace, world.namespace))
        .setMetadata(
            Struct.newBuilder()
                .putFields("NAMESPACE", string(world.namespace))
                .putFields("SERVICE_ACCOUNT", string("ingress"))
                .putFields(
                    "LABELS",
                    Value.newBuilder()
                        .setStructValue(
                            Struct.newBuilder().putFields("istio", string("ingressgateway")))
                        .build()))
        .build();
  }

  private static Value string(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  /** Creates or replaces a Kubernetes object written for namespace {@code e2e}. */
  private void kubernetes(String yaml) {
    HasMetadata object = Serialization.unmarshal(world.local(yaml));
    client.resource(object).inNamespace(world.namespace).createOr(existing -> existing.update());
  }

  private void certificate(String serial) {
    kubernetes(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: web-cert, namespace: e2e}
        type: Opaque
        stringData:
          tls.crt: "-----BEGIN CERTIFICATE-----\\n%s\\n-----END CERTIFICATE-----\\n"
          tls.key: "-----BEGIN PRIVATE KEY-----\\nkey\\n-----END PRIVATE KEY-----\\n"
        """
            .formatted(serial));
  }

  @Test
  void gatewayGetsItsServersRoutesAndCertificate_andARotationSendsOnlyTheSecret() throws Exception {
    TokenReviews.install(server);
    world =
        new MeshWorld(MeshWorld.cluster(client), Files.createTempDirectory("bosun-e2e"))
            .startBosun();
    String root = world.publishedRoot();
    world.service("web");
    Backend web = world.backend("web", "web-v1", Map.of("app", "web", "version", "v1"), "zone-a");
    kubernetes(
        """
        apiVersion: v1
        kind: Service
        metadata: {name: ingress, namespace: e2e}
        spec:
          selector: {istio: ingressgateway}
          ports:
          - {name: http2, port: 80, targetPort: 8080}
          - {name: https, port: 443, targetPort: 8443}
        """);
    kubernetes(
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: ingress-gw
          namespace: e2e
          labels: {kubernetes.io/service-name: ingress}
        addressType: IPv4
        ports:
        - {name: http2, port: 8080, protocol: TCP}
        - {name: https, port: 8443, protocol: TCP}
        endpoints:
        - addresses: [%s]
          conditions: {ready: true}
        """
            .formatted(GATEWAY_IP));
    certificate("first");
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: web-gateway, namespace: e2e}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [web.example.com]
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: [web.example.com]
            tls: {mode: SIMPLE, credentialName: web-cert}
        """);
    world.apply(
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web, namespace: e2e}
        spec:
          hosts: [web.example.com]
          gateways: [web-gateway]
          http:
          - route: [{destination: {host: web, port: {number: 7070}}}]
        """);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              JsonNode snapshot = IstioJson.json().readTree(world.body("/debug/snapshot"));
              return snapshot.path("config").path("Gateway").asInt() == 1
                  && snapshot.path("config").path("VirtualService").asInt() == 1;
            });

    EnvoyValidator validator = new EnvoyValidator();
    try (RawAdsClient ads =
        new RawAdsClient(
            WorkloadCertificates.secureChannel(world.securePort, root, world.token("ingress")),
            node())) {
      DiscoveryResponse lds = ads.request(XdsTypes.LISTENER, List.of());
      ads.ack(lds, List.of());
      assertThat(
              lds.getResourcesList().stream()
                  .map(any -> RawAdsClient.unpack(any, Listener.class).getName())
                  .toList())
          .as("the gateway Service's targetPorts")
          .containsExactlyInAnyOrder("0.0.0.0_8080", "0.0.0.0_8443");
      List<String> routeNames =
          List.of("http.8080", world.local("https.443.https.web-gateway.e2e"));
      DiscoveryResponse rds = ads.request(XdsTypes.ROUTE, routeNames);
      ads.ack(rds, routeNames);
      assertThat(rds.getResourcesCount()).isEqualTo(2);
      for (var any : rds.getResourcesList()) {
        RouteConfiguration config = RawAdsClient.unpack(any, RouteConfiguration.class);
        assertThat(config.getVirtualHostsList())
            .singleElement()
            .satisfies(
                host -> {
                  assertThat(host.getDomainsList()).containsExactly("web.example.com");
                  assertThat(host.getRoutes(0).getRoute().getCluster())
                      .isEqualTo(world.local("outbound|7070||web.e2e.svc.cluster.local"));
                });
      }
      // The route's cluster reaches the registered backend (what Envoy would connect to).
      List<String> clusters = List.of(world.local("outbound|7070||web.e2e.svc.cluster.local"));
      DiscoveryResponse eds = ads.request(XdsTypes.ENDPOINT, clusters);
      ads.ack(eds, clusters);
      assertThat(
              RawAdsClient.unpack(eds.getResources(0), ClusterLoadAssignment.class)
                  .getEndpointsList()
                  .stream()
                  .flatMap(locality -> locality.getLbEndpointsList().stream())
                  .map(e -> e.getEndpoint().getAddress().getSocketAddress().getPortValue())
                  .toList())
          .containsExactly(web.port());
      List<String> secrets = List.of("kubernetes://web-cert");
      DiscoveryResponse sds = ads.request(XdsTypes.SECRET, secrets);
      ads.ack(sds, secrets);
      Secret secret = RawAdsClient.unpack(sds.getResources(0), Secret.class);
      assertThat(secret.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8())
          .contains("first");
      for (DiscoveryResponse response : List.of(lds, rds, eds, sds)) {
        for (var any : response.getResourcesList()) {
          assertThat(validator.check(RawAdsClient.unpack(any)))
              .as("%s passes Envoy's constraints", any.getTypeUrl())
              .isEmpty();
        }
      }

      certificate("rotated");
      DiscoveryResponse rotated = ads.next(Duration.ofSeconds(30));
      assertThat(rotated).isNotNull();
      assertThat(rotated.getTypeUrl()).isEqualTo(XdsTypes.SECRET);
      assertThat(
              RawAdsClient.unpack(rotated.getResources(0), Secret.class)
                  .getTlsCertificate()
                  .getCertificateChain()
                  .getInlineBytes()
                  .toStringUtf8())
          .contains("rotated");
      ads.ack(rotated, secrets);
      assertThat(ads.next(Duration.ofSeconds(1))).as("nothing but the Secret changed").isNull();
    }
  }
}
