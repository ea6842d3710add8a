package dev.bosun.controlplane.xds.scope;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.model.MeshService;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Sidecar egress hosts: imports, and istiod's {@code ~namespace/host} exclusions. */
class SidecarScopeTest {
  private static MeshService service(String name, String namespace) {
    return new MeshService(
        name + "." + namespace + ".svc.cluster.local",
        namespace,
        name,
        MeshService.Origin.KUBERNETES,
        List.of(),
        List.of(),
        Map.of(),
        Set.of(),
        MeshService.Resolution.STATIC,
        false,
        Instant.EPOCH);
  }

  @Test
  void exclusions_removeWhatTheyCover_inTheirNamespaceOrEveryNamespace() {
    MeshService internal = service("internal", "shop");
    MeshService web = service("web", "shop");
    MeshService istiod = service("istiod", "istio-system");
    assertThat(SidecarScope.excludes("~shop/internal.shop.svc.cluster.local", internal, "shop"))
        .isTrue();
    assertThat(SidecarScope.excludes("~shop/internal.shop.svc.cluster.local", web, "shop"))
        .isFalse();
    assertThat(SidecarScope.excludes("~./*", web, "shop"))
        .as("~. is the proxy's namespace")
        .isTrue();
    assertThat(SidecarScope.excludes("~./*", istiod, "shop")).isFalse();
    assertThat(SidecarScope.excludes("~/*.svc.cluster.local", istiod, "shop"))
        .as("~/ excludes in every namespace")
        .isTrue();
    assertThat(SidecarScope.excludes("~istio-system/*", istiod, "shop")).isTrue();
    assertThat(SidecarScope.excludes("istio-system/*", istiod, "shop"))
        .as("an import is not an exclusion")
        .isFalse();
    assertThat(SidecarScope.imports("*/*", istiod, "shop")).isTrue();
    assertThat(SidecarScope.imports("~istio-system/*", istiod, "shop"))
        .as("an exclusion imports nothing")
        .isFalse();
  }
}
