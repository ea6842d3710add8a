package dev.bosun.controlplane.meshconfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bosun.controlplane.meshconfig.MeshConfig.OutboundTrafficPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MeshConfig YAML over Istio's defaults: what is honoured, kept, merged and rejected. */
class MeshConfigParserTest {

  @Test
  void parse_empty_isIstiosDefaults() throws Exception {
    MeshConfig config = MeshConfigParser.parse("").config();
    assertThat(config.rootNamespace()).isEqualTo("istio-system");
    assertThat(config.trustDomain()).isEqualTo("cluster.local");
    assertThat(config.outboundTrafficPolicy()).isEqualTo(OutboundTrafficPolicy.ALLOW_ANY);
    assertThat(config.enableAutoMtls()).isTrue();
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.localityLbSetting().getEnabled()).isTrue();
    assertThat(config.exportTo()).isEqualTo(MeshConfig.ExportDefaults.EVERYONE);
    assertThat(config.ingressService()).isEqualTo("istio-ingressgateway");
    assertThat(config.ingressClass()).isEqualTo("istio");
    assertThat(config.proxyDefaults().discoveryAddress())
        .isEqualTo("istiod.istio-system.svc:15012");
    assertThat(config.proxyDefaults().holdApplicationUntilProxyStarts()).isFalse();
    assertThat(config.defaultConfig().path("drainDuration").asText()).isEqualTo("45s");
    assertThat(config).isEqualTo(MeshConfig.DEFAULTS);
  }

  @Test
  void parse_everyHonouredField_isRead() throws Exception {
    MeshConfigParser.Result result =
        MeshConfigParser.parse(
            """
            rootNamespace: mesh-root
            trustDomain: corp.example
            outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            enableAutoMtls: false
            connectTimeout: 1.5s
            localityLbSetting:
              enabled: true
              failover: [{from: us-east, to: us-west}]
            defaultServiceExportTo: ["."]
            defaultVirtualServiceExportTo: [shop, demo]
            defaultDestinationRuleExportTo: ["~"]
            defaultConfig:
              discoveryAddress: istiod-canary.istio-system.svc:15012
              holdApplicationUntilProxyStarts: true
              proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
            """);
    MeshConfig config = result.config();
    assertThat(config.rootNamespace()).isEqualTo("mesh-root");
    assertThat(config.trustDomain()).isEqualTo("corp.example");
    assertThat(config.outboundTrafficPolicy()).isEqualTo(OutboundTrafficPolicy.REGISTRY_ONLY);
    assertThat(config.enableAutoMtls()).isFalse();
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.localityLbSetting().getFailover()).hasSize(1);
    assertThat(config.exportTo().services()).containsExactly(".");
    assertThat(config.exportTo().virtualServices()).containsExactly("shop", "demo");
    assertThat(config.exportTo().destinationRules()).containsExactly("~");
    assertThat(config.proxyDefaults().discoveryAddress())
        .isEqualTo("istiod-canary.istio-system.svc:15012");
    assertThat(config.proxyDefaults().holdApplicationUntilProxyStarts()).isTrue();
    assertThat(config.proxyDefaults().proxyMetadata())
        .isEqualTo(Map.of("ISTIO_META_DNS_CAPTURE", "true"));
    assertThat(result.warnings()).isEmpty();
  }

  @Test
  void parse_defaultConfig_mergesOverTheDefaultProxyConfig() throws Exception {
    MeshConfig config =
        MeshConfigParser.parse(
                """
                defaultConfig:
                  concurrency: 2
                  proxyMetadata: {A: a}
                """)
            .config();
    assertThat(config.defaultConfig().path("concurrency").asInt()).isEqualTo(2);
    assertThat(config.defaultConfig().path("discoveryAddress").asText())
        .as("a default the YAML does not mention stays")
        .isEqualTo("istiod.istio-system.svc:15012");
    assertThat(config.defaultConfig().path("proxyMetadata").path("A").asText()).isEqualTo("a");
  }

  @Test
  void defaultConfig_isACopy() throws Exception {
    MeshConfig config = MeshConfigParser.parse("defaultConfig: {concurrency: 2}").config();
    config.defaultConfig().put("concurrency", 9);
    assertThat(config.defaultConfig().path("concurrency").asInt()).isEqualTo(2);
  }

  @Test
  void parse_unknownAndUnhonouredFields_areKeptAndNamed() throws Exception {
    MeshConfigParser.Result result =
        MeshConfigParser.parse(
            """
            enableTracing: true
            enableAutoMtlz: true
            outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: x}}
            defaultConfig: {notAProxyField: 1}
            """);
    assertThat(result.warnings())
        .containsExactlyInAnyOrder(
            "enableTracing: not honoured by Bosun (kept, no effect)",
            "enableAutoMtlz: not a MeshConfig field (kept, no effect)",
            "outboundTrafficPolicy.egressProxy: not a field of it (kept, no effect)",
            "defaultConfig.notAProxyField: not a ProxyConfig field (kept, passed on)");
    assertThat(result.config().document().path("enableTracing").asBoolean()).isTrue();
    assertThat(result.config().document().path("enableAutoMtlz").asBoolean()).isTrue();
    assertThat(result.config().defaultConfig().path("notAProxyField").asInt()).isEqualTo(1);
  }

  @Test
  void parse_extensionProviders_onlyExtAuthzOnesAreHonoured() throws Exception {
    MeshConfigParser.Result result =
        MeshConfigParser.parse(
            """
            extensionProviders:
            - name: opa
              envoyExtAuthzHttp: {service: opa.policy.svc.cluster.local, port: 8181}
            - name: zipkin
              zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
            """);
    assertThat(result.warnings())
        .containsExactly(
            "extensionProviders[1] (zipkin): zipkin providers are not honoured by Bosun (kept, no"
                + " effect; only ext_authz ones are)");
  }

  @Test
  void parse_ingressSettings_areCheckedAndSaidToHaveNoEffect() throws Exception {
    MeshConfigParser.Result result =
        MeshConfigParser.parse("ingressService: my-gateway\ningressClass: nginx\n");
    assertThat(result.config().ingressService()).isEqualTo("my-gateway");
    assertThat(result.config().ingressClass()).isEqualTo("nginx");
    assertThat(result.warnings())
        .containsExactly(
            "ingressService: \"my-gateway\" has no effect: Bosun does not translate Kubernetes"
                + " Ingress",
            "ingressClass: \"nginx\" has no effect: Bosun does not translate Kubernetes Ingress");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          outboundTrafficPolicy: {mode: FOO}           | outboundTrafficPolicy.mode: "FOO" (expected: ALLOW_ANY or REGISTRY_ONLY)
          outboundTrafficPolicy: ALLOW_ANY             | outboundTrafficPolicy: "ALLOW_ANY" (expected: a mapping such as {mode: ALLOW_ANY})
          connectTimeout: ten seconds                  | connectTimeout: "ten seconds" (expected: a duration from 1ms to 1h, such as "10s" or "500ms")
          connectTimeout: 2h                           | connectTimeout: "2h" (expected: a duration from 1ms to 1h, such as "10s" or "500ms")
          connectTimeout: 10                           | connectTimeout: 10 (expected: a duration from 1ms to 1h, such as "10s" or "500ms")
          enableAutoMtls: "yes"                        | enableAutoMtls: "yes" (expected: true or false)
          rootNamespace: Istio_System                  | rootNamespace: "Istio_System" (expected: a namespace name)
          trustDomain: spiffe://x                      | trustDomain: "spiffe://x" (expected: a name such as cluster.local: letters, digits, '.', '-', '_')
          defaultServiceExportTo: "*"                  | defaultServiceExportTo: "*" (expected: a list such as ["*"] or ["."])
          defaultDestinationRuleExportTo: ["*", shop]  | defaultDestinationRuleExportTo: mixes "*" with other entries (expected: either "*" alone or specific namespaces)
          defaultConfig: {discoveryAddress: istiod}    | defaultConfig.discoveryAddress: "istiod" (expected: host:port such as istiod.istio-system.svc:15012)
          defaultConfig: {proxyMetadata: {A: 1}}       | defaultConfig.proxyMetadata[A]: 1 (expected: a string; quote numbers and booleans)
          defaultConfig: {holdApplicationUntilProxyStarts: 1} | defaultConfig.holdApplicationUntilProxyStarts: 1 (expected: true or false)
          ingressClass: [nginx]                        | ingressClass: ["nginx"] (expected: a string)
          """)
  void parse_badValue_isRejectedWithPathValueAndExpectation(String yaml, String problem) {
    assertThatThrownBy(() -> MeshConfigParser.parse(yaml))
        .isInstanceOfSatisfying(
            MeshConfigException.class, e -> assertThat(e.problems()).containsExactly(problem));
  }

  @Test
  void parse_localityLbSetting_isCheckedAsADestinationRulesIs() {
    assertThatThrownBy(
            () ->
                MeshConfigParser.parse(
                    """
                    localityLbSetting:
                      distribute: [{from: "us-east/*", to: {"us-east/*": 60}}]
                      failover: [{from: us-east, to: us-east}]
                    """))
        .isInstanceOfSatisfying(
            MeshConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "localityLbSetting: sets both distribute and failover (expected: at most"
                            + " one)",
                        "localityLbSetting.distribute[0].to: 60: weights add up to 60 (expected: a"
                            + " total of 100)",
                        "localityLbSetting.failover[0].to: \"us-east\": fails over to itself"
                            + " (expected: a region other than from)"));
  }

  @Test
  void parse_severalProblems_reportsThemAll() {
    assertThatThrownBy(() -> MeshConfigParser.parse("connectTimeout: x\nenableAutoMtls: 3\n"))
        .isInstanceOfSatisfying(
            MeshConfigException.class, e -> assertThat(e.problems()).hasSize(2));
  }

  @Test
  void parse_notYamlOrNotAMapping_isRejected() {
    assertThatThrownBy(() -> MeshConfigParser.parse("a: [b"))
        .isInstanceOf(MeshConfigException.class)
        .hasMessageStartingWith("mesh: not valid YAML:");
    assertThatThrownBy(() -> MeshConfigParser.parse("- a\n- b\n"))
        .hasMessage("mesh: a YAML array (expected: a mapping of MeshConfig fields)");
  }

  @Test
  void parse_allowAnyDynamicDns_isAllowAnyWithAWarning() throws Exception {
    MeshConfigParser.Result result =
        MeshConfigParser.parse("outboundTrafficPolicy: {mode: ALLOW_ANY_DYNAMIC_DNS}");
    assertThat(result.config().outboundTrafficPolicy()).isEqualTo(OutboundTrafficPolicy.ALLOW_ANY);
    assertThat(result.warnings()).hasSize(1);
    assertThat(List.copyOf(result.warnings()).get(0)).contains("treated as ALLOW_ANY");
  }
}
