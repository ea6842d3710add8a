package dev.bosun.controlplane.webhook.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.fge.jsonpatch.JsonPatch;
import dev.bosun.crd.IstioJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Injection goldens: each input pod under {@code src/test/resources/inject/} is sent to the
 * webhook, the JSON patch it answers is applied to the pod as the API server sent it with an
 * independent JSON-patch implementation, and the result must be the golden {@code
 * <case>.injected.yaml} ({@code -Dgolden.update=true} rewrites the goldens; review the diff).
 */
class InjectionGoldenTest {
  static final Path DIR = Path.of("src/test/resources/inject");

  static Stream<Arguments> cases() {
    InjectionSettings defaults = InjectionSettings.defaults("istio-system", "");
    ObjectNode mesh = JsonNodeFactory.instance.objectNode();
    mesh.put("discoveryAddress", "istiod.istio-system.svc:15012");
    mesh.putObject("proxyMetadata").put("A", "mesh").put("B", "mesh");
    return Stream.of(
        Arguments.of("hello", defaults, empty()),
        Arguments.of("probes", defaults, empty()),
        Arguments.of("prometheus", defaults, empty()),
        Arguments.of("annotations", defaults, empty()),
        Arguments.of("grpc-agent", defaults, empty()),
        Arguments.of("gateway", defaults, empty()),
        Arguments.of("native-sidecar", defaults, empty()),
        Arguments.of("cni", defaults.withCni(true), empty()),
        Arguments.of("interception-none", defaults, empty()),
        Arguments.of("tproxy", defaults, empty()),
        Arguments.of("proxy-override", defaults, empty()),
        Arguments.of(
            "mesh-config",
            defaults.withMesh(
                new InjectionSettings.MeshIdentity(
                    "", "net-1", "mesh-1", "corp.example", "cluster.local")),
            (Supplier<ObjectNode>) () -> mesh));
  }

  private static Supplier<ObjectNode> empty() {
    return JsonNodeFactory.instance::objectNode;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void inject_patchAppliedToThePod_isTheGoldenPod(
      String name, InjectionSettings settings, Supplier<ObjectNode> mesh) throws Exception {
    JsonNode pod = IstioJson.yaml().readTree(Files.readString(DIR.resolve(name + ".yaml")));
    InjectionWebhook webhook =
        new InjectionWebhook(
            new InjectionPolicy(true),
            new SidecarInjector(settings, mesh),
            new SimpleMeterRegistry());

    JsonNode response = webhook.review(Reviews.create(pod)).path("response");

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("warnings").isMissingNode()).as(response.toString()).isTrue();
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch =
        IstioJson.json().readTree(Base64.getDecoder().decode(response.path("patch").asText()));
    JsonNode injected = JsonPatch.fromJson(patch).apply(pod);
    Path golden = DIR.resolve(name + ".injected.yaml");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(
          golden, IstioJson.yaml().writeValueAsString(injected), StandardCharsets.UTF_8);
    }
    assertThat(golden).exists();
    assertThat(injected)
        .as("%s: rerun with -Dgolden.update=true and review the diff", golden)
        .isEqualTo(IstioJson.yaml().readTree(Files.readString(golden)));
  }
}
