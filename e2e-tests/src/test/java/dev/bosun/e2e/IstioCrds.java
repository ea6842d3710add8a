package dev.bosun.e2e;

import static org.awaitility.Awaitility.await;

import dev.bosun.e2e.install.Chart;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Istio CRDs Bosun ships ({@code deploy/crds}), installed into the cluster a test runs against,
 * as {@code kubectl apply -f deploy/crds/} installs them. A real API server serves a kind only once
 * its CRD is established, so this waits for that there.
 */
final class IstioCrds {
  private static final Path DIR = Chart.DIR.getParent().getParent().resolve("deploy/crds");

  private IstioCrds() {}

  static void install(KubernetesClient client) {
    List<Path> files;
    try (Stream<Path> listing = Files.list(DIR)) {
      files = listing.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path file : files) {
      CustomResourceDefinition crd;
      try {
        crd = Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      var resource = client.apiextensions().v1().customResourceDefinitions().resource(crd);
      resource.createOr(existing -> existing.update());
      if (MeshWorld.realCluster()) {
        await().atMost(Duration.ofSeconds(60)).until(() -> established(resource.get()));
      }
    }
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
  }
}
