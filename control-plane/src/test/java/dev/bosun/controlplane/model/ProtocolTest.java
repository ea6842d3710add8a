package dev.bosun.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProtocolTest {
  @ParameterizedTest(name = "name={0} appProtocol={1} -> {2}")
  @CsvSource(
      nullValues = "null",
      value = {
        "http, null, HTTP",
        "http-web, null, HTTP",
        "HTTP2-api, null, HTTP2",
        "grpc, null, GRPC",
        "grpc-web, null, GRPC_WEB",
        "grpc-web-ui, null, GRPC_WEB",
        "tcp-db, null, TCP",
        "tls-passthrough, null, TLS",
        "https, null, HTTPS",
        "mongo, null, MONGO",
        "redis-cache, null, REDIS",
        "mysql, null, MYSQL",
        "web, null, UNKNOWN",
        "httpx, null, UNKNOWN",
        "null, null, UNKNOWN",
        "web, http, HTTP",
        "tcp, grpc, GRPC",
        "web, kubernetes.io/h2c, HTTP2",
        "web, kubernetes.io/ws, HTTP",
        "http, example.com/custom, HTTP",
      })
  void select_followsIstioProtocolSelection(String name, String appProtocol, Protocol expected) {
    assertThat(Protocol.select(name, appProtocol)).isEqualTo(expected);
  }
}
