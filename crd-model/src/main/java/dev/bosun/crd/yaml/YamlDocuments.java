package dev.bosun.crd.yaml;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.crd.IstioJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Splits multi-document YAML into documents and parses each on its own, so one malformed document
 * is reported with its line and never hides the others. A {@code List} kind (as {@code kubectl get
 * -o yaml} writes) is expanded into its items. Anchors, aliases and merge keys are expanded as the
 * API server expands them ({@link YamlAliases}).
 */
public final class YamlDocuments {
  private static final Pattern SEPARATOR = Pattern.compile("^---(\\s.*)?$");
  private static final Pattern END = Pattern.compile("^\\.\\.\\.\\s*$");
  private static final Pattern MARK = Pattern.compile("line (\\d+), column \\d+");

  private YamlDocuments() {}

  /** The non-empty documents of {@code text}, in order. */
  public static List<YamlDocument> parse(String source, String text) {
    List<YamlDocument> documents = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    StringBuilder current = new StringBuilder();
    int startLine = 1;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (SEPARATOR.matcher(line).matches() || END.matcher(line).matches()) {
        add(documents, source, current.toString(), startLine);
        current.setLength(0);
        startLine = i + 2;
        continue;
      }
      current.append(line).append('\n');
    }
    add(documents, source, current.toString(), startLine);
    return documents;
  }

  private static void add(List<YamlDocument> documents, String source, String text, int startLine) {
    if (isBlank(text)) {
      return;
    }
    int position = documents.size() + 1;
    int firstLine = startLine + leadingBlankLines(text);
    try {
      JsonNode tree = YamlAliases.expand(text).orElse(null);
      if (tree == null) {
        tree = IstioJson.yaml().readTree(text);
      }
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        return;
      }
      if (tree.isObject() && isList(tree)) {
        JsonNode items = tree.get("items");
        for (int i = 0; i < items.size(); i++) {
          documents.add(
              new YamlDocument(
                  source,
                  documents.size() + 1,
                  firstLine,
                  Optional.of(items.get(i)),
                  Optional.empty()));
        }
        return;
      }
      documents.add(
          new YamlDocument(source, position, firstLine, Optional.of(tree), Optional.empty()));
    } catch (JsonProcessingException e) {
      documents.add(
          new YamlDocument(
              source,
              position,
              Math.min(errorLine(e, startLine, firstLine), lastLine(text, startLine)),
              Optional.empty(),
              Optional.of("malformed YAML: " + reason(e))));
    }
  }

  /** The parser's own words without its source excerpts: "mapping values are not allowed here". */
  private static String reason(JsonProcessingException e) {
    String reason =
        e.getOriginalMessage()
            .lines()
            .filter(line -> !line.isBlank() && !line.startsWith(" ") && !line.startsWith("\t"))
            .collect(Collectors.joining("; "));
    return reason.isEmpty() ? "cannot be parsed" : reason;
  }

  /** The line the parser points at last (where it gave up), in the whole source. */
  private static int errorLine(JsonProcessingException e, int startLine, int fallback) {
    Matcher matcher = MARK.matcher(e.getOriginalMessage());
    int line = -1;
    while (matcher.find()) {
      line = Integer.parseInt(matcher.group(1));
    }
    if (line < 1) {
      JsonLocation location = e.getLocation();
      line = location == null ? -1 : location.getLineNr();
    }
    return line < 1 ? fallback : startLine + line - 1;
  }

  /** The last non-blank line of a document, in the whole source. */
  private static int lastLine(String text, int startLine) {
    List<String> lines = text.lines().toList();
    int last = lines.size();
    while (last > 0 && lines.get(last - 1).isBlank()) {
      last--;
    }
    return startLine + Math.max(last, 1) - 1;
  }

  private static boolean isList(JsonNode tree) {
    JsonNode kind = tree.get("kind");
    JsonNode items = tree.get("items");
    return kind != null
        && kind.isTextual()
        && kind.asText().endsWith("List")
        && items != null
        && items.isArray();
  }

  private static boolean isBlank(String text) {
    return text.lines().allMatch(line -> line.isBlank() || line.stripLeading().startsWith("#"));
  }

  private static int leadingBlankLines(String text) {
    int count = 0;
    for (String line : text.lines().toList()) {
      if (!line.isBlank() && !line.stripLeading().startsWith("#")) {
        break;
      }
      count++;
    }
    return count;
  }
}
