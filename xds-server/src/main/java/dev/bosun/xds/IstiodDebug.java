package dev.bosun.xds;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What istiod's debug pages say of a stream, in their field names, so that tools reading istiod's
 * {@code /debug/syncz} and {@code /debug/adsz} find them on Bosun's too.
 */
final class IstiodDebug {
  private IstiodDebug() {}

  /** istiod's short names of the types {@code /debug/syncz} reports nonces for. */
  private static final Map<String, String> SYNCZ_TYPES =
      Map.of(
          XdsTypes.CLUSTER, "cluster",
          XdsTypes.LISTENER, "listener",
          XdsTypes.ROUTE, "route",
          XdsTypes.ENDPOINT, "endpoint",
          XdsTypes.EXTENSION_CONFIG, "extensionconfig");

  /**
   * The fields of istiod's {@code /debug/syncz} entries, beside Bosun's own, so that tools reading
   * istiod's find them: the proxy, its type, cluster and Istio version, the sent and acked nonce
   * per type, and per type URL the nonces and the last NACK. Empty values are left out, as istiod
   * leaves them out.
   */
  static void syncFields(XdsStream<?> stream, Map<String, Object> status) {
    XdsProxy proxy = stream.proxy;
    if (proxy == null) {
      return;
    }
    String nodeId = proxy.nodeId();
    putIfSet(status, "cluster_id", metadata(stream, "CLUSTER_ID"));
    putIfSet(status, "proxy", nodeId);
    putIfSet(
        status, "proxy_type", nodeId.contains("~") ? nodeId.substring(0, nodeId.indexOf('~')) : "");
    putIfSet(status, "istio_version", metadata(stream, "ISTIO_VERSION"));
    putIfSet(status, "address", stream.peer);
    Map<String, Object> resources = new java.util.TreeMap<>();
    for (TypeState state : stream.types.values()) {
      String name = SYNCZ_TYPES.get(state.typeUrl);
      if (name != null) {
        putIfSet(status, name + "_sent", state.lastSentNonce);
        putIfSet(status, name + "_acked", state.lastAckedNonce);
      }
      Map<String, Object> resource = new LinkedHashMap<>();
      putIfSet(resource, "sent", state.lastSentNonce);
      putIfSet(resource, "acked", state.lastAckedNonce);
      putIfSet(resource, "last_error", state.nackError == null ? "" : state.nackError);
      resources.put(state.typeUrl, resource);
    }
    status.put("resources", resources);
  }

  /** A string field of the node's metadata, or empty. */
  static String metadata(XdsStream<?> stream, String field) {
    if (stream.proxy == null) {
      return "";
    }
    com.google.protobuf.Value value = stream.proxy.node().getMetadata().getFieldsMap().get(field);
    return value == null ? "" : value.getStringValue();
  }

  private static void putIfSet(Map<String, Object> map, String key, String value) {
    if (value != null && !value.isEmpty()) {
      map.put(key, value);
    }
  }

  /**
   * What istiod's {@code /debug/adsz} says of a connection: when and from where it connected, the
   * node's labels, metadata and locality, and the names it watches per type.
   */
  static Map<String, Object> adsz(XdsStream<?> stream) {
    synchronized (stream) {
      return adszLocked(stream);
    }
  }

  private static Map<String, Object> adszLocked(XdsStream<?> stream) {
    XdsProxy proxy = stream.proxy;
    Map<String, Object> client = new LinkedHashMap<>();
    client.put("connectionId", stream.id);
    client.put("connectedAt", proxy == null ? "" : proxy.connected().toString());
    client.put("address", stream.peer);
    if (proxy == null) {
      return client;
    }
    Map<String, Object> metadata = structMap(proxy.node().getMetadata());
    Object labels = metadata.get("LABELS");
    if (labels instanceof Map<?, ?> map && !map.isEmpty()) {
      client.put("labels", labels);
    }
    client.put("metadata", metadata);
    if (proxy.node().hasLocality()) {
      Map<String, Object> locality = new LinkedHashMap<>();
      putIfSet(locality, "region", proxy.node().getLocality().getRegion());
      putIfSet(locality, "zone", proxy.node().getLocality().getZone());
      putIfSet(locality, "sub_zone", proxy.node().getLocality().getSubZone());
      client.put("locality", locality);
    }
    Map<String, Object> watches = new java.util.TreeMap<>();
    for (TypeState state : stream.types.values()) {
      watches.put(
          state.typeUrl,
          state.wildcard ? java.util.List.of() : new java.util.TreeSet<>(state.subscribed));
    }
    client.put("watches", watches);
    return client;
  }

  /** A protobuf Struct as plain maps, lists, strings, numbers and booleans. */
  private static Map<String, Object> structMap(com.google.protobuf.Struct struct) {
    Map<String, Object> map = new java.util.TreeMap<>();
    struct.getFieldsMap().forEach((key, value) -> map.put(key, plain(value)));
    return map;
  }

  private static Object plain(com.google.protobuf.Value value) {
    return switch (value.getKindCase()) {
      case STRUCT_VALUE -> structMap(value.getStructValue());
      case LIST_VALUE ->
          value.getListValue().getValuesList().stream().map(IstiodDebug::plain).toList();
      case STRING_VALUE -> value.getStringValue();
      case NUMBER_VALUE -> value.getNumberValue();
      case BOOL_VALUE -> value.getBoolValue();
      default -> "";
    };
  }
}
