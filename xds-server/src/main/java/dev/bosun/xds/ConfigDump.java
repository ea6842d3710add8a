package dev.bosun.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a proxy was last sent, as JSON in the shape of Envoy's own config dump: per type, each
 * resource with its version, whether the proxy acknowledged it, and the resource itself, with a
 * Secret's private key and generic secret shown as {@code [redacted]}, as Envoy's own dump does.
 */
final class ConfigDump {
  private static final JsonFormat.Printer PRINTER = EnvoyJson.compactPrinter();

  private ConfigDump() {}

  /** The dump of one stream: a map ready to be written as JSON. */
  static Map<String, Object> of(XdsStream<?> stream) {
    Map<String, Object> dump = new LinkedHashMap<>();
    synchronized (stream) {
      dump.put("nodeId", stream.proxy == null ? "" : stream.proxy.nodeId());
      dump.put("connectionId", stream.id);
      List<Object> configs = new ArrayList<>();
      for (TypeState state : stream.types.values()) {
        Map<String, Object> type = new LinkedHashMap<>();
        type.put("typeUrl", state.typeUrl);
        type.put("lastSentVersion", state.lastSentVersion);
        type.put("lastAckedVersion", state.lastAckedVersion);
        Map<String, Object> resources = new TreeMap<>();
        for (String name : state.hasNames()) {
          EncodedResource resource = state.has(name);
          Map<String, Object> entry = new LinkedHashMap<>();
          entry.put("version", resource.version());
          entry.put("acknowledged", state.acked(name) == resource);
          entry.put("resource", json(resource.any()));
          resources.put(name, entry);
        }
        type.put("resources", resources);
        configs.add(type);
      }
      dump.put("configs", configs);
    }
    return dump;
  }

  private static final io.envoyproxy.envoy.config.core.v3.DataSource REDACTED =
      io.envoyproxy.envoy.config.core.v3.DataSource.newBuilder()
          .setInlineString("[redacted]")
          .build();

  /** A Secret without its key material; any other resource as it is. */
  static Any redacted(Any any) throws InvalidProtocolBufferException {
    if (!XdsTypes.SECRET.equals(any.getTypeUrl())) {
      return any;
    }
    var secret =
        any
            .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class)
            .toBuilder();
    if (secret.hasTlsCertificate()) {
      var certificate = secret.getTlsCertificateBuilder();
      if (certificate.hasPrivateKey()) {
        certificate.setPrivateKey(REDACTED);
      }
      if (certificate.hasPassword()) {
        certificate.setPassword(REDACTED);
      }
    }
    if (secret.hasGenericSecret()) {
      secret.getGenericSecretBuilder().setSecret(REDACTED);
    }
    if (secret.hasSessionTicketKeys()) {
      secret.clearSessionTicketKeys();
    }
    return Any.pack(secret.build());
  }

  /** The resource as parsed JSON, or a note when its type is not known to the dump. */
  private static Object json(Any any) {
    if (any.getValue().isEmpty() && any.getTypeUrl().isEmpty()) {
      return Map.of("note", "known to the proxy by version only (delta reconnect)");
    }
    try {
      String json = PRINTER.print(redacted(any));
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (InvalidProtocolBufferException
        | com.fasterxml.jackson.core.JsonProcessingException e) {
      return Map.of("@type", any.getTypeUrl(), "note", "cannot be printed: " + e.getMessage());
    }
  }
}
