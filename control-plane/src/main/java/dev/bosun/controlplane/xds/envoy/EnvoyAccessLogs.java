package dev.bosun.controlplane.xds.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.bosun.controlplane.snapshot.MeshSnapshot;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ResponseFlagFilter;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.JsonFormatOptions;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log the mesh config asks of every Envoy proxy ({@code accessLogFile}, {@code
 * accessLogEncoding}, {@code accessLogFormat}), as istiod builds it: a file logger on every HTTP
 * connection manager and TCP proxy of sidecars and gateways, in Istio's default text or JSON format
 * unless the mesh config gives one (a newline is added to a text format that lacks it). No {@code
 * accessLogFile}, no access log.
 */
public final class EnvoyAccessLogs {
  private static final Logger log = LoggerFactory.getLogger(EnvoyAccessLogs.class);

  /** Envoy's file access logger. */
  static final String FILE_LOGGER = "envoy.access_loggers.file";

  /** Istio's default text format (since 1.9). */
  public static final String TEXT_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\""
          + " %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%"
          + " %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\""
          + " %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"
          + " \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\""
          + " \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW%"
          + " %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%"
          + " %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

  /** Istio's default JSON format: each field and the command operator that fills it. */
  static final Map<String, String> JSON_FORMAT = jsonFormat();

  private static Map<String, String> jsonFormat() {
    Map<String, String> fields = new TreeMap<>();
    fields.put("start_time", "%START_TIME%");
    fields.put("route_name", "%ROUTE_NAME%");
    fields.put("method", "%REQ(:METHOD)%");
    fields.put("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
    fields.put("protocol", "%PROTOCOL%");
    fields.put("response_code", "%RESPONSE_CODE%");
    fields.put("response_flags", "%RESPONSE_FLAGS%");
    fields.put("response_code_details", "%RESPONSE_CODE_DETAILS%");
    fields.put("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%");
    fields.put("bytes_received", "%BYTES_RECEIVED%");
    fields.put("bytes_sent", "%BYTES_SENT%");
    fields.put("duration", "%DURATION%");
    fields.put("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%");
    fields.put("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%");
    fields.put("user_agent", "%REQ(USER-AGENT)%");
    fields.put("request_id", "%REQ(X-REQUEST-ID)%");
    fields.put("authority", "%REQ(:AUTHORITY)%");
    fields.put("upstream_host", "%UPSTREAM_HOST%");
    fields.put("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%");
    fields.put("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%");
    fields.put("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%");
    fields.put("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%");
    fields.put("requested_server_name", "%REQUESTED_SERVER_NAME%");
    fields.put("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%");
    return java.util.Collections.unmodifiableMap(fields);
  }

  /** The formatter extension Envoy needs for {@code %REQ_WITHOUT_QUERY(...)%}. */
  private static final TypedExtensionConfig REQ_WITHOUT_QUERY =
      TypedExtensionConfig.newBuilder()
          .setName("envoy.formatter.req_without_query")
          .setTypedConfig(
              Any.pack(
                  io.envoyproxy.envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery
                      .getDefaultInstance()))
          .build();

  private EnvoyAccessLogs() {}

  /** The access logs of the snapshot's mesh config, built once per snapshot; empty for none. */
  public static List<AccessLog> of(MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("access-logs"), () -> fromMeshConfig(snapshot.meshConfig().document()));
  }

  static List<AccessLog> fromMeshConfig(JsonNode mesh) {
    String path = mesh.path("accessLogFile").asText("");
    if (path.isEmpty()) {
      return List.of();
    }
    String format = mesh.path("accessLogFormat").asText("");
    SubstitutionFormatString.Builder logFormat = SubstitutionFormatString.newBuilder();
    boolean reqWithoutQuery;
    if (mesh.path("accessLogEncoding").asText("TEXT").equals("JSON")) {
      Struct json = jsonFormat(format);
      logFormat
          .setJsonFormat(json)
          .setJsonFormatOptions(JsonFormatOptions.newBuilder().setSortProperties(false));
      reqWithoutQuery =
          json.getFieldsMap().values().stream()
              .anyMatch(v -> v.getStringValue().contains("%REQ_WITHOUT_QUERY"));
    } else {
      String text = format.isEmpty() ? TEXT_FORMAT : format.endsWith("\n") ? format : format + "\n";
      logFormat.setTextFormatSource(DataSource.newBuilder().setInlineString(text));
      reqWithoutQuery = text.contains("%REQ_WITHOUT_QUERY");
    }
    if (reqWithoutQuery) {
      logFormat.addFormatters(REQ_WITHOUT_QUERY);
    }
    FileAccessLog file = FileAccessLog.newBuilder().setPath(path).setLogFormat(logFormat).build();
    return List.of(
        AccessLog.newBuilder().setName(FILE_LOGGER).setTypedConfig(Any.pack(file)).build());
  }

  /**
   * The listener-level logs istiod adds to a sidecar's {@code virtualInbound} and {@code
   * virtualOutbound} and to gateway listeners: the same file log, for connections no filter chain
   * took (response flag {@code NR}), which no connection manager or TCP proxy sees. None when the
   * mesh config sets {@code disableEnvoyListenerLog}.
   */
  public static List<AccessLog> listenerLogs(MeshSnapshot snapshot) {
    return snapshot.derived(
        List.of("listener-access-logs"),
        () -> {
          if (snapshot.meshConfig().document().path("disableEnvoyListenerLog").asBoolean(false)) {
            return List.of();
          }
          AccessLogFilter noRoute =
              AccessLogFilter.newBuilder()
                  .setResponseFlagFilter(ResponseFlagFilter.newBuilder().addFlags("NR"))
                  .build();
          return of(snapshot).stream()
              .map(log -> log.toBuilder().setFilter(noRoute).build())
              .toList();
        });
  }

  /** {@code listener} with the listener-level logs added to it. */
  public static Listener withListenerLogs(Listener listener, List<AccessLog> logs) {
    return logs.isEmpty() ? listener : listener.toBuilder().addAllAccessLog(logs).build();
  }

  /** A custom JSON format, else Istio's; one that is not a JSON object is logged and replaced. */
  private static Struct jsonFormat(String format) {
    if (!format.isEmpty()) {
      try {
        Struct.Builder custom = Struct.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(format, custom);
        if (custom.getFieldsCount() > 0) {
          return custom.build();
        }
      } catch (InvalidProtocolBufferException e) {
        log.error(
            "accessLogFormat is not a JSON object ({}); Istio's default JSON format is used",
            e.getMessage());
      }
    }
    Struct.Builder istio = Struct.newBuilder();
    JSON_FORMAT.forEach((k, v) -> istio.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return istio.build();
  }

  /**
   * {@code listener} with {@code logs} on each of its HTTP connection managers and TCP proxies; the
   * listener itself when there are none.
   */
  public static Listener withLogs(Listener listener, List<AccessLog> logs) {
    if (logs.isEmpty()) {
      return listener;
    }
    Listener.Builder logged = listener.toBuilder();
    for (FilterChain.Builder chain : logged.getFilterChainsBuilderList()) {
      chain.getFiltersBuilderList().forEach(filter -> log(filter, logs));
    }
    if (logged.hasDefaultFilterChain()) {
      logged.getDefaultFilterChainBuilder().getFiltersBuilderList().forEach(f -> log(f, logs));
    }
    return logged.build();
  }

  private static void log(Filter.Builder filter, List<AccessLog> logs) {
    Any config = filter.getTypedConfig();
    try {
      if (config.is(HttpConnectionManager.class)) {
        filter.setTypedConfig(
            Any.pack(
                config.unpack(HttpConnectionManager.class).toBuilder()
                    .addAllAccessLog(logs)
                    .build()));
      } else if (config.is(TcpProxy.class)) {
        filter.setTypedConfig(
            Any.pack(config.unpack(TcpProxy.class).toBuilder().addAllAccessLog(logs).build()));
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a filter Bosun packed cannot be read back", e);
    }
  }
}
