package dev.bosun.controlplane.webhook.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Merges a rendered template into the admitted pod as istiod does (a strategic merge of the
 * template, then the pod's own same-named containers laid back over it): template labels and
 * annotations are set; containers, init containers and volumes are matched by name, the template's
 * first, and where the pod has a container of the same name (an {@code istio-proxy} that overrides
 * the image, say) the pod's fields win.
 */
final class PodOverlay {
  /** The list merge keys Kubernetes gives a container's lists. */
  private static final Map<String, String> CONTAINER_LIST_KEYS =
      Map.of("env", "name", "volumeMounts", "mountPath", "ports", "containerPort");

  /** The image a pod's own {@code istio-proxy} names to keep the injected one, as istiod's. */
  static final String AUTO_IMAGE = "auto";

  private PodOverlay() {}

  /**
   * The pod with {@code template} merged in.
   *
   * @param nativeSidecar the pod's own {@code istio-proxy} moves to the init containers, where the
   *     template puts the proxy
   */
  static Pod apply(Pod pod, Pod template, boolean nativeSidecar) {
    ObjectNode merged = Serialization.jsonMapper().valueToTree(pod);
    ObjectNode overlay = Serialization.jsonMapper().valueToTree(template);
    ObjectNode metadata = merged.with("metadata");
    for (String field : new String[] {"labels", "annotations"}) {
      JsonNode values = overlay.path("metadata").path(field);
      if (values.isObject() && !values.isEmpty()) {
        metadata.with(field).setAll((ObjectNode) values);
      }
    }
    ObjectNode spec = merged.with("spec");
    if (nativeSidecar
        && hasNamed(
            overlay.path("spec").path("initContainers"), SidecarAnnotations.PROXY_CONTAINER)) {
      moveNamed(spec, "containers", "initContainers", SidecarAnnotations.PROXY_CONTAINER);
    }
    for (String list : new String[] {"initContainers", "containers", "volumes"}) {
      JsonNode ours = overlay.path("spec").path(list);
      if (ours.isArray() && !ours.isEmpty()) {
        spec.set(
            list,
            mergeByKey(
                (ArrayNode) ours,
                spec.path(list),
                "name",
                list.equals("volumes") ? Map.of() : CONTAINER_LIST_KEYS));
      }
    }
    return Serialization.jsonMapper().convertValue(merged, Pod.class);
  }

  /**
   * {@code template}'s items in order, each with the same-keyed item of {@code existing} laid over
   * it, then {@code existing}'s other items in order.
   */
  private static ArrayNode mergeByKey(
      ArrayNode template, JsonNode existing, String key, Map<String, String> nestedKeys) {
    Map<String, JsonNode> theirs = new LinkedHashMap<>();
    existing.forEach(item -> theirs.put(item.path(key).asText(), item));
    ArrayNode out = template.arrayNode();
    for (JsonNode item : template) {
      JsonNode own = theirs.remove(item.path(key).asText());
      if (own != null && AUTO_IMAGE.equals(own.path("image").asText())) {
        // "auto": the pod overrides other fields but takes the template's image.
        own = ((ObjectNode) own).deepCopy().without("image");
      }
      out.add(own == null ? item : overlayFields((ObjectNode) item, (ObjectNode) own, nestedKeys));
    }
    theirs.values().forEach(out::add);
    return out;
  }

  /** {@code base} with each field of {@code top}: keyed lists merged, anything else replaced. */
  private static ObjectNode overlayFields(
      ObjectNode base, ObjectNode top, Map<String, String> listKeys) {
    ObjectNode out = base.deepCopy();
    top.fields()
        .forEachRemaining(
            field -> {
              String key = listKeys.get(field.getKey());
              JsonNode under = base.path(field.getKey());
              if (key != null && field.getValue().isArray() && under.isArray()) {
                // The pod's own entries first, then the template's others.
                ArrayNode mine = ((ArrayNode) field.getValue()).deepCopy();
                java.util.Set<String> keys = new java.util.HashSet<>();
                mine.forEach(item -> keys.add(item.path(key).asText()));
                under.forEach(
                    item -> {
                      if (!keys.contains(item.path(key).asText())) {
                        mine.add(item);
                      }
                    });
                out.set(field.getKey(), mine);
              } else {
                out.set(field.getKey(), field.getValue());
              }
            });
    return out;
  }

  private static boolean hasNamed(JsonNode list, String name) {
    for (JsonNode item : list) {
      if (name.equals(item.path("name").asText())) {
        return true;
      }
    }
    return false;
  }

  private static void moveNamed(ObjectNode spec, String from, String to, String name) {
    JsonNode source = spec.path(from);
    if (!source.isArray()) {
      return;
    }
    ArrayNode sources = (ArrayNode) source;
    for (int i = 0; i < sources.size(); i++) {
      if (name.equals(sources.get(i).path("name").asText())) {
        spec.withArray(to).add(sources.remove(i));
        return;
      }
    }
  }
}
