package dev.bosun.crd.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class YamlDocumentsTest {

  @Test
  void parse_multiDocument_givesPositionAndFirstLine() {
    String text =
        """
        # leading comment
        apiVersion: v1
        kind: Service
        ---
        ---
        # only a comment
        ---

        apiVersion: v1
        kind: Pod
        """;
    List<YamlDocument> documents = YamlDocuments.parse("a.yaml", text);
    assertThat(documents).hasSize(2);
    assertThat(documents.get(0).location()).isEqualTo("a.yaml:2 (document 1)");
    assertThat(documents.get(1).location()).isEqualTo("a.yaml:9 (document 2)");
    assertThat(documents.get(1).tree().get().get("kind").asText()).isEqualTo("Pod");
  }

  @Test
  void parse_malformedDocument_isReportedWithItsLine_andOthersStillParse() {
    String text =
        """
        kind: First
        ---
        kind: Second
        spec:
          hosts: [a, b
        ---
        kind: Third
        """;
    List<YamlDocument> documents = YamlDocuments.parse("b.yaml", text);
    assertThat(documents).hasSize(3);
    assertThat(documents.get(1).tree()).isEmpty();
    assertThat(documents.get(1).error().get()).startsWith("malformed YAML: ");
    assertThat(documents.get(1).location()).startsWith("b.yaml:").endsWith("(document 2)");
    int line = Integer.parseInt(documents.get(1).location().replaceAll("b.yaml:(\\d+) .*", "$1"));
    assertThat(line).isBetween(5, 6);
    assertThat(documents.get(2).tree().get().get("kind").asText()).isEqualTo("Third");
  }

  @Test
  void parse_listKind_expandsItems() {
    String text =
        """
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Service, metadata: {name: a}}
        - {apiVersion: v1, kind: Service, metadata: {name: b}}
        """;
    List<YamlDocument> documents = YamlDocuments.parse("list.yaml", text);
    assertThat(documents)
        .extracting(d -> d.tree().get().at("/metadata/name").asText())
        .containsExactly("a", "b");
  }

  @Test
  void parse_tabIndentation_isAnErrorNotAnException() {
    List<YamlDocument> documents = YamlDocuments.parse("t.yaml", "spec:\n\thosts: [a]\n");
    assertThat(documents)
        .singleElement()
        .satisfies(d -> assertThat(d.error().get()).contains("TAB"));
  }

  @Test
  void parse_anchorsAliasesAndMergeKeys_areExpanded_andScalarsKeepTheirTypes() {
    String text =
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: shop}
        spec:
          host: ratings
          trafficPolicy: &defaults
            connectionPool:
              tcp: {maxConnections: 100}
            loadBalancer: {simple: ROUND_ROBIN}
          subsets:
          - name: v1
            labels: &v1 {version: v1, tier: "2"}
          - name: v1-copy
            labels: *v1
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              <<: *defaults
              loadBalancer: {simple: LEAST_REQUEST}
        """;
    var tree = YamlDocuments.parse("a.yaml", text).get(0).tree().orElseThrow();
    var subsets = tree.path("spec").path("subsets");
    assertThat(subsets.get(1).path("labels").toString())
        .isEqualTo("{\"version\":\"v1\",\"tier\":\"2\"}");
    var merged = subsets.get(2).path("trafficPolicy");
    assertThat(merged.path("loadBalancer").path("simple").asText())
        .as("a key written next to the merge wins")
        .isEqualTo("LEAST_REQUEST");
    assertThat(merged.path("connectionPool").path("tcp").path("maxConnections").isInt())
        .as("merged in, and still a number")
        .isTrue();
  }

  @Test
  void parse_starsInStrings_areNotAliases_andLeaveTheDocumentToJackson() {
    String text =
        """
        kind: Sidecar
        spec:
          egress:
          - hosts: ["*/*", "./*"]
            port: {number: 80}
          tags: !!str 123
        """;
    var tree = YamlDocuments.parse("a.yaml", text).get(0).tree().orElseThrow();
    assertThat(tree.path("spec").path("egress").get(0).path("hosts").get(0).asText())
        .isEqualTo("*/*");
    assertThat(tree.path("spec").path("egress").get(0).path("port").path("number").isInt())
        .isTrue();
  }
}
