package dev.bosun.crd.schema;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.crd.IstioKind;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Bosun's kinds against the CRDs of Istio's current release line, one fact table row per CRD:
 * served versions, the stored one and the short names. A CRD Istio serves that Bosun has no kind
 * for is listed with why. Moving to a new Istio release means updating this table from its {@code
 * crd-all.gen.yaml}; the test then says what Bosun must change.
 */
class IstioReleaseFactsTest {
  private record Facts(List<String> served, String storage, List<String> shortNames) {}

  /** From Istio's {@code manifests/charts/base/files/crd-all.gen.yaml} (1.31 line). */
  private static final Map<String, Facts> ISTIO =
      Map.ofEntries(
          Map.entry(
              "virtualservices.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("vs"))),
          Map.entry(
              "destinationrules.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("dr"))),
          Map.entry(
              "gateways.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("gw"))),
          Map.entry(
              "serviceentries.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("se"))),
          Map.entry(
              "sidecars.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of())),
          Map.entry(
              "workloadentries.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("we"))),
          Map.entry(
              "workloadgroups.networking.istio.io",
              new Facts(List.of("v1", "v1alpha3", "v1beta1"), "v1", List.of("wg"))),
          Map.entry(
              "envoyfilters.networking.istio.io",
              new Facts(List.of("v1alpha3"), "v1alpha3", List.of())),
          Map.entry(
              "proxyconfigs.networking.istio.io",
              new Facts(List.of("v1beta1"), "v1beta1", List.of())),
          Map.entry(
              "peerauthentications.security.istio.io",
              new Facts(List.of("v1", "v1beta1"), "v1", List.of("pa"))),
          Map.entry(
              "authorizationpolicies.security.istio.io",
              new Facts(List.of("v1", "v1beta1"), "v1", List.of("ap"))),
          Map.entry(
              "requestauthentications.security.istio.io",
              new Facts(List.of("v1", "v1beta1"), "v1", List.of("ra"))),
          Map.entry(
              "telemetries.telemetry.istio.io",
              new Facts(List.of("v1", "v1alpha1"), "v1alpha1", List.of("telemetry"))),
          Map.entry(
              "wasmplugins.extensions.istio.io",
              new Facts(List.of("v1alpha1"), "v1alpha1", List.of())),
          Map.entry(
              "trafficextensions.extensions.istio.io",
              new Facts(List.of("v1alpha1"), "v1alpha1", List.of())));

  /** CRDs of the release Bosun has no kind for, and why. */
  private static final Map<String, String> NOT_MODELLED =
      Map.of(
          "trafficextensions.extensions.istio.io",
          "fabric8's istio-model has no type for it; the webhook allows it with a warning");

  @Test
  void everyKind_isServedAndStoredAsIstioServesAndStoresIt() {
    for (IstioKind kind : IstioKind.values()) {
      Facts istio = ISTIO.get(kind.crdName());
      assertThat(istio).as("%s is a CRD of Istio's release", kind.crdName()).isNotNull();
      assertThat(kind.versions().stream().map(IstioKind.Version::name))
          .as("%s served versions", kind.crdName())
          .containsExactlyInAnyOrderElementsOf(istio.served());
      assertThat(kind.storageVersion()).as("%s storage", kind.crdName()).isEqualTo(istio.storage());
      assertThat(kind.shortNames())
          .as("%s short names", kind.crdName())
          .containsExactlyElementsOf(istio.shortNames());
    }
  }

  @Test
  void everyCrdOfTheRelease_isAKindOrSaysWhyNot() {
    List<String> kinds = Arrays.stream(IstioKind.values()).map(IstioKind::crdName).toList();
    assertThat(
            ISTIO.keySet().stream().filter(crd -> !kinds.contains(crd)).collect(Collectors.toSet()))
        .containsExactlyInAnyOrderElementsOf(NOT_MODELLED.keySet());
  }
}
