package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.push.PushRequest;
import dev.bosun.crd.IstioKind;
import dev.bosun.xds.XdsTypes;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which types a push may change, by what the push request says changed. */
class XdsPushesTest {
  private static final ConfigKey VIRTUAL_SERVICE =
      new ConfigKey(IstioKind.VIRTUAL_SERVICE, "demo", "echo");
  private static final ConfigKey DESTINATION_RULE =
      new ConfigKey(IstioKind.DESTINATION_RULE, "demo", "echo");

  @Test
  void virtualServiceEdits_changeOnlyListenersAndRoutes() {
    PushRequest request =
        PushRequest.config(VIRTUAL_SERVICE, "vs", 1)
            .merge(PushRequest.config(new ConfigKey(IstioKind.VIRTUAL_SERVICE, "b", "x"), "vs", 2));

    assertThat(XdsPushes.typesChanged(request))
        .containsExactlyInAnyOrder(XdsTypes.LISTENER, XdsTypes.ROUTE);
  }

  @Test
  void virtualServiceWithADestinationRule_mayChangeEveryType() {
    PushRequest request =
        PushRequest.config(VIRTUAL_SERVICE, "vs", 1)
            .merge(PushRequest.config(DESTINATION_RULE, "dr", 2));

    assertThat(XdsPushes.typesChanged(request)).isEmpty();
  }

  @Test
  void virtualServiceWithServiceOrEndpointChanges_mayChangeEveryType() {
    PushRequest config = PushRequest.config(VIRTUAL_SERVICE, "vs", 1);

    assertThat(
            XdsPushes.typesChanged(
                config.merge(PushRequest.services(Set.of("echo.demo.svc.cluster.local"), "s", 2))))
        .isEmpty();
    assertThat(
            XdsPushes.typesChanged(
                config.merge(PushRequest.endpoints(Set.of("echo.demo.svc.cluster.local"), "e", 2))))
        .isEmpty();
  }

  @Test
  void everything_mayChangeEveryType() {
    assertThat(XdsPushes.typesChanged(PushRequest.everything("initial sync", 1))).isEmpty();
  }
}
