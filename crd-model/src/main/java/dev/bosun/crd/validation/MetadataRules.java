package dev.bosun.crd.validation;

import java.util.Map;

/** The parts of {@code metadata} Bosun relies on: a valid name, namespace and labels. */
final class MetadataRules {
  private MetadataRules() {}

  static void validate(DocNode metadata, Problems out) {
    if (!metadata.isSet() || !metadata.value().isObject()) {
      out.missing(metadata.path(), "metadata with a name");
      return;
    }
    DocNode name = metadata.field("name");
    if (!name.isSet()) {
      if (!metadata.field("generateName").isSet()) {
        out.missing(name.path(), "an object name");
      }
    } else if (!Rules.isDnsSubdomain(name.text())) {
      out.invalid(
          name.path(),
          name.value(),
          "a lower-case DNS-1123 subdomain (a-z, 0-9, '-', '.'), at most 253 characters");
    }
    DocNode namespace = metadata.field("namespace");
    if (namespace.isSet() && !Rules.isDnsLabel(namespace.text())) {
      out.invalid(namespace.path(), namespace.value(), "a namespace name (a DNS-1123 label)");
    }
    DocNode labels = metadata.field("labels");
    if (labels.isSet() && !labels.value().isObject()) {
      out.invalid(labels.path(), labels.value(), "a map of labels");
    }
    Rules.labels(labels, out);
    for (Map.Entry<String, DocNode> annotation : metadata.field("annotations").entries()) {
      if (!annotation.getValue().value().isTextual()) {
        out.invalid(annotation.getValue().path(), annotation.getValue().value(), "a string");
      }
    }
  }
}
