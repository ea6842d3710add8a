package dev.bosun.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.bosun.controlplane.config.ConfigEntry;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.crd.IstioKind;
import io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntry;
import io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntryBuilder;
import io.fabric8.istio.api.api.networking.v1alpha3.WorkloadEntry;
import io.fabric8.istio.api.api.networking.v1alpha3.WorkloadEntryBuilder;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Objects that reached the registry without the validator (a store written before a rule existed, a
 * model gap): each costs only itself.
 */
class ServiceEntryServicesTest {
  private static ConfigEntry entry(IstioKind kind, String name, Object spec) {
    return new ConfigEntry(
        new ConfigKey(kind, "shop", name),
        spec,
        Instant.EPOCH,
        Map.of(),
        "1",
        JsonNodeFactory.instance.objectNode());
  }

  private static ServiceEntry selecting(String host) {
    return new ServiceEntryBuilder()
        .withHosts(host)
        .withNewWorkloadSelector()
        .withLabels(Map.of("app", "vm"))
        .endWorkloadSelector()
        .withResolution(io.fabric8.istio.api.api.networking.v1alpha3.ServiceEntryResolution.STATIC)
        .build();
  }

  @Test
  void anUnusableServiceEntry_isLeftOut_theOthersKeepTheirServices() {
    ConfigEntry broken =
        entry(IstioKind.SERVICE_ENTRY, "broken", new WorkloadEntryBuilder().build());
    ConfigEntry vms = entry(IstioKind.SERVICE_ENTRY, "vms", selecting("vm.shop.internal"));

    ServiceEntryServices built =
        ServiceEntryServices.build(List.of(broken, vms), List.of(), List.of());

    assertThat(built.services()).containsOnlyKeys("vm.shop.internal");
  }

  @Test
  void aWorkloadLabelWithoutValue_isDropped_asTheApiServerDropsIt() {
    Map<String, String> labels = new HashMap<>();
    labels.put("app", "vm");
    labels.put("tier", null);
    WorkloadEntry workload = new WorkloadEntryBuilder().withAddress("10.9.0.1").build();
    workload.setLabels(labels);

    ServiceEntryServices built =
        ServiceEntryServices.build(
            List.of(entry(IstioKind.SERVICE_ENTRY, "vms", selecting("vm.shop.internal"))),
            List.of(entry(IstioKind.WORKLOAD_ENTRY, "vm-1", workload)),
            List.of());

    assertThat(built.endpoints().get("vm.shop.internal"))
        .singleElement()
        .satisfies(endpoint -> assertThat(endpoint.labels()).isEqualTo(Map.of("app", "vm")));
  }
}
