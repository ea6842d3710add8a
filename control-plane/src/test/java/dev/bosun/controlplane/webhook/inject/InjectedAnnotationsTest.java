package dev.bosun.controlplane.webhook.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** istiod's {@code injectedAnnotations}: set on every injected pod last, over its own. */
class InjectedAnnotationsTest {
  @Test
  void injectedAnnotations_areSetLast_overThePodsOwn() throws Exception {
    Pod pod =
        IstioJson.yaml()
            .readValue(
                Files.readString(Path.of("src/test/resources/inject/hello.yaml")), Pod.class);
    pod.getMetadata().setAnnotations(new java.util.HashMap<>(Map.of("team", "unknown")));
    Pod injected =
        new SidecarInjector(
                InjectionSettings.defaults("istio-system", ""),
                JsonNodeFactory.instance::objectNode,
                Map.of("team", "shop", "example.com/audited", "true"))
            .inject(pod, "shop")
            .pod();
    assertThat(injected.getMetadata().getAnnotations())
        .containsEntry("team", "shop")
        .containsEntry("example.com/audited", "true")
        .containsKey("sidecar.istio.io/status");
  }
}
