package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bosun analyze} on the bookinfo example: clean as shipped, then with a broken object, a
 * VirtualService naming a host, a subset and a gateway that do not exist, and a second mesh
 * VirtualService for a host: each reported with istiod's code, and exit code 79 for errors.
 */
class AnalyzeCommandTest {
  @TempDir Path dir;

  @Test
  void bookinfo_isClean_thenEachProblemIsReportedWithItsCode() throws Exception {
    for (Path file : Files.list(Path.of("../deploy/examples/bookinfo")).toList()) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    Cli.Result clean = Cli.run("analyze", dir.toString());
    assertThat(clean.code()).as(clean.out()).isEqualTo(0);
    assertThat(clean.out()).isEmpty();
    assertThat(clean.err()).contains("No validation issues found");

    Files.writeString(
        dir.resolve("problems.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: typos, namespace: bookinfo}
        spec:
          hosts: [typos.example.com]
          gateways: [nope]
          http:
          - route:
            - {destination: {host: ratings2}, weight: 50}
            - {destination: {host: reviews, subset: v9}, weight: 50}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: broken, namespace: bookinfo}
        spec: {host: details, subsets: [{name: v1}, {name: v1}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-again, namespace: bookinfo, creationTimestamp: "2030-01-01T00:00:00Z"}
        spec:
          hosts: [reviews]
          http: [{route: [{destination: {host: reviews}}]}]
        """);
    Cli.Result found = Cli.run("analyze", dir.toString());

    assertThat(found.code()).isEqualTo(79);
    assertThat(found.out().lines())
        .contains(
            "Error [IST0101] (VirtualService bookinfo/typos) Referenced host not found:"
                + " \"ratings2\"",
            "Error [IST0101] (VirtualService bookinfo/typos) Referenced host+subset in"
                + " destinationrule not found: \"reviews+v9\"",
            "Error [IST0101] (VirtualService bookinfo/typos) Referenced gateway not found:"
                + " \"nope\"")
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "Error [IST0106] (DestinationRule bookinfo/broken) Schema validation error: ")
                    .contains("spec.subsets[1].name"))
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("Error [IST0109] (VirtualService bookinfo/reviews-again) ")
                    .contains("VirtualService host reviews.bookinfo.svc.cluster.local"));
    assertThat(Cli.run("analyze", dir.resolve("missing").toString()).code()).isEqualTo(2);
  }
}
