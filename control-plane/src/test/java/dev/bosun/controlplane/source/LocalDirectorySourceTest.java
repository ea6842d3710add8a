package dev.bosun.controlplane.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.mesh.MeshEvents;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local source under direct scans: edits, malformed files and deletions. */
class LocalDirectorySourceTest {
  @TempDir Path dir;

  /** Where linked manifests live, outside the scanned directory. */
  @TempDir Path elsewhere;

  private final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
  private final MeshEvents recorder =
      new MeshEvents() {
        @Override
        public void kubernetesUpserted(HasMetadata object, String origin) {
          events.add("upsert " + object.getKind() + " " + object.getMetadata().getName());
        }

        @Override
        public void kubernetesDeleted(HasMetadata object, String origin) {
          events.add("delete " + object.getKind() + " " + object.getMetadata().getName());
        }

        @Override
        public void istioUpserted(JsonNode document, String origin) {
          events.add(
              "upsert "
                  + document.path("kind").asText()
                  + " "
                  + document.path("metadata").path("name").asText()
                  + " @"
                  + origin.replace(dir.toString(), ""));
        }

        @Override
        public void istioDeleted(ConfigKey key, String origin) {
          events.add("delete " + key);
        }

        @Override
        public void synced(String source) {
          events.add("synced");
        }
      };

  private static final String SERVICE =
      """
      apiVersion: v1
      kind: Service
      metadata: {name: reviews, namespace: shop}
      spec: {ports: [{name: http, port: 9080}]}
      """;

  private static String vs(String timeout) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: shop}
        spec:
          hosts: [reviews]
          http:
          - route: [{destination: {host: reviews}}]
            timeout: %s
        """
        .formatted(timeout);
  }

  /** Events that hand each upserted Kubernetes object and Istio document on, and drop the rest. */
  private static MeshEvents upserts(
      java.util.function.Consumer<HasMetadata> objects,
      java.util.function.Consumer<JsonNode> documents) {
    return new MeshEvents() {
      @Override
      public void kubernetesUpserted(HasMetadata object, String origin) {
        objects.accept(object);
      }

      @Override
      public void kubernetesDeleted(HasMetadata object, String origin) {}

      @Override
      public void istioUpserted(JsonNode document, String origin) {
        documents.accept(document);
      }

      @Override
      public void istioDeleted(ConfigKey key, String origin) {}

      @Override
      public void synced(String source) {}
    };
  }

  private void write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    FileTime before = Files.exists(file) ? Files.getLastModifiedTime(file) : null;
    Files.writeString(file, text);
    if (before != null && Files.getLastModifiedTime(file).equals(before)) {
      Files.setLastModifiedTime(file, FileTime.from(before.toInstant().plusMillis(1)));
    }
  }

  @Test
  void initialScan_deliversEveryObject_thenSynced() throws IOException {
    write(
        "mesh.yaml",
        SERVICE
            + "---\n"
            + vs("2s")
            + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ignored}\n");
    write("nested/more.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    assertThat(events)
        .containsExactly(
            "upsert Service reviews",
            "upsert VirtualService reviews @/mesh.yaml:6 (document 2)",
            "upsert Namespace shop");
  }

  @Test
  void started_picksUpEditsAsTheFileSystemReportsThem_notOnlyOnThePollInterval()
      throws IOException {
    write("mesh.yaml", SERVICE);
    try (LocalDirectorySource source =
        new LocalDirectorySource(dir, recorder).start(java.time.Duration.ofHours(1))) {
      assertThat(events).containsExactly("upsert Service reviews", "synced");

      write("mesh.yaml", SERVICE + "---\n" + vs("2s"));
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(events)
                      .contains("upsert VirtualService reviews @/mesh.yaml:6 (document 2)"));

      write("later/more.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .untilAsserted(() -> assertThat(events).contains("upsert Namespace shop"));

      write("later/more.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop2}\n");
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .alias("a directory created after the start is watched too")
          .untilAsserted(() -> assertThat(events).contains("upsert Namespace shop2"));
    }
  }

  @Test
  void objectsWithoutCreationTime_areStampedWhenFirstSeen_soANewerOneNeverTakesPrecedence()
      throws IOException {
    Map<String, String> stamps = new java.util.HashMap<>();
    MeshEvents capture =
        upserts(
            object -> {},
            document ->
                stamps.put(
                    document.path("metadata").path("name").asText(),
                    document.path("metadata").path("creationTimestamp").asText()));
    LocalDirectorySource source =
        new LocalDirectorySource(
            dir,
            capture,
            java.time.Clock.fixed(
                java.time.Instant.parse("2026-01-01T00:00:00Z"), java.time.ZoneOffset.UTC));
    write("zeta.yaml", vs("2s").replace("name: reviews", "name: zeta"));
    source.scan();
    write("alpha.yaml", vs("2s").replace("name: reviews", "name: alpha"));
    source.scan();
    String zeta = stamps.get("zeta");
    write("zeta.yaml", vs("3s").replace("name: reviews", "name: zeta"));
    source.scan();

    assertThat(stamps.get("zeta")).as("an edit keeps the creation time").isEqualTo(zeta);
    assertThat(java.time.Instant.parse(stamps.get("zeta")))
        .as("the object seen first stays the older one, whatever the names")
        .isBefore(java.time.Instant.parse(stamps.get("alpha")));
  }

  @Test
  void namespacedObjectWithoutNamespace_isInDefault_asKubectlApplyPutsIt() throws IOException {
    write(
        "orphan.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: orphan}\n"
            + "spec:\n  ports: [{name: http, port: 80}]\n");
    List<String> namespaces = new ArrayList<>();
    MeshEvents capture =
        upserts(object -> namespaces.add(object.getMetadata().getNamespace()), document -> {});
    new LocalDirectorySource(dir, capture).scan();
    assertThat(namespaces).containsExactly("default");
  }

  @Test
  void editedFile_deliversOnlyWhatChanged_andRemovedDocumentsAreDeleted() throws IOException {
    write("mesh.yaml", SERVICE + "---\n" + vs("2s"));
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    events.clear();

    write("mesh.yaml", SERVICE + "---\n" + vs("3s"));
    source.scan();
    assertThat(events).containsExactly("upsert VirtualService reviews @/mesh.yaml:6 (document 2)");
    events.clear();

    source.scan();
    assertThat(events).as("nothing changed, nothing delivered").isEmpty();

    write("mesh.yaml", SERVICE);
    source.scan();
    assertThat(events).containsExactly("delete VirtualService shop/reviews");
  }

  @Test
  void malformedDocument_isSkipped_othersStillApply_andThePreviousObjectsAreKept()
      throws IOException {
    write("mesh.yaml", SERVICE + "---\n" + vs("2s"));
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    events.clear();

    write("mesh.yaml", SERVICE.replace("9080", "9081") + "---\nspec: [unclosed\n");
    source.scan();
    assertThat(events)
        .as("the Service update applies; the VirtualService is not deleted")
        .containsExactly("upsert Service reviews");
    events.clear();

    write("mesh.yaml", SERVICE.replace("9080", "9081"));
    source.scan();
    assertThat(events)
        .as("once the file parses again, the missing object is deleted")
        .containsExactly("delete VirtualService shop/reviews");
  }

  @Test
  void deletedFile_deletesItsObjects() throws IOException {
    write("a.yaml", SERVICE);
    write("b.yaml", vs("2s"));
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    events.clear();
    Files.delete(dir.resolve("a.yaml"));
    source.scan();
    assertThat(events).containsExactly("delete Service reviews");
  }

  @Test
  void unreadableKubernetesObject_isSkipped() throws IOException {
    write(
        "bad.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: oops}\n---\n"
            + vs("2s"));
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    assertThat(events).containsExactly("upsert VirtualService reviews @/bad.yaml:6 (document 2)");
  }

  @Test
  void start_scansAndReportsSynced() throws IOException {
    write("a.yaml", SERVICE);
    try (LocalDirectorySource source = new LocalDirectorySource(dir, recorder)) {
      source.start(java.time.Duration.ofHours(1));
      assertThat(events).containsExactly("upsert Service reviews", "synced");
    }
  }

  @Test
  void filesAreAppliedInPathOrder_andLinkedFilesAreRead_untilTheLinkGoes() throws IOException {
    Files.writeString(elsewhere.resolve("vs.yaml"), vs("2s"));
    write("z.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    write("a.yaml", SERVICE);
    Files.createSymbolicLink(dir.resolve("m.yaml"), elsewhere.resolve("vs.yaml"));
    Files.createSymbolicLink(dir.resolve("dangling.yaml"), elsewhere.resolve("missing.yaml"));
    LocalDirectorySource source = new LocalDirectorySource(dir, recorder);
    source.scan();
    assertThat(events)
        .containsExactly(
            "upsert Service reviews",
            "upsert VirtualService reviews @/m.yaml:1 (document 1)",
            "upsert Namespace shop");
    events.clear();

    Files.delete(dir.resolve("m.yaml"));
    source.scan();
    assertThat(events).containsExactly("delete VirtualService shop/reviews");
  }
}
