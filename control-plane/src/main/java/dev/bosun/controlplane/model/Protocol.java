package dev.bosun.controlplane.model;

import java.util.Locale;

/**
 * The application protocol of a service port, selected the way Istio does: the port's {@code
 * appProtocol} first, then its name ({@code <protocol>} or {@code <protocol>-<suffix>}), otherwise
 * unknown, which Envoy sidecars sniff at connection time.
 */
public enum Protocol {
  HTTP,
  HTTP2,
  HTTPS,
  GRPC,
  GRPC_WEB,
  TCP,
  TLS,
  MONGO,
  MYSQL,
  REDIS,
  UDP,
  /** Not declared: sidecars detect HTTP or fall back to TCP. */
  UNKNOWN;

  /** Whether Envoy routes this protocol with an HTTP connection manager. */
  public boolean isHttp() {
    return this == HTTP || this == HTTP2 || this == GRPC || this == GRPC_WEB;
  }

  /** Whether traffic is HTTP/2 end to end (gRPC, h2c). */
  public boolean isHttp2() {
    return this == HTTP2 || this == GRPC || this == GRPC_WEB;
  }

  /** Istio's protocol selection for a Kubernetes Service port. */
  public static Protocol select(String portName, String appProtocol) {
    if (appProtocol != null && !appProtocol.isEmpty()) {
      Protocol fromAppProtocol = fromAppProtocol(appProtocol);
      if (fromAppProtocol != UNKNOWN) {
        return fromAppProtocol;
      }
    }
    if (portName == null) {
      return UNKNOWN;
    }
    String name = portName.toLowerCase(Locale.ROOT);
    if (name.startsWith("grpc-web")) {
      return GRPC_WEB; // the one protocol name with a hyphen, checked before the prefix split
    }
    int dash = name.indexOf('-');
    return parse(dash < 0 ? name : name.substring(0, dash));
  }

  private static Protocol fromAppProtocol(String appProtocol) {
    return switch (appProtocol.toLowerCase(Locale.ROOT)) {
      case "kubernetes.io/h2c" -> HTTP2;
      case "kubernetes.io/ws" -> HTTP;
      case "kubernetes.io/wss" -> HTTPS;
      default -> parse(appProtocol.toLowerCase(Locale.ROOT));
    };
  }

  /** Parses Istio's protocol names ({@code http}, {@code grpc-web}, {@code TLS}, ...). */
  public static Protocol parse(String name) {
    if (name == null) {
      return UNKNOWN;
    }
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "http", "http_proxy" -> HTTP; // istiod counts HTTP_PROXY among the HTTP protocols
      case "http2" -> HTTP2;
      case "https" -> HTTPS;
      case "grpc" -> GRPC;
      case "grpc-web" -> GRPC_WEB;
      case "tcp" -> TCP;
      case "tls" -> TLS;
      case "mongo" -> MONGO;
      case "mysql" -> MYSQL;
      case "redis" -> REDIS;
      case "udp" -> UDP;
      default -> UNKNOWN;
    };
  }
}
