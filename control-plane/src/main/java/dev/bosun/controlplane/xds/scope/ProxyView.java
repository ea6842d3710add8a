package dev.bosun.controlplane.xds.scope;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bosun.controlplane.model.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the control plane knows of one connected proxy, read from the node the Istio agent (or a
 * proxyless gRPC bootstrap) sends: id {@code
 * <type>~<ip>~<pod>.<namespace>~<namespace>.svc.<suffix>}, its locality, and metadata such as
 * {@code NAMESPACE}, {@code LABELS}, {@code GENERATOR} and {@code PROXY_CONFIG} (the ProxyConfig
 * the agent runs with).
 */
public record ProxyView(
    String id,
    String type,
    String ip,
    String namespace,
    Map<String, String> labels,
    String generator,
    Locality locality,
    String serviceAccount,
    String clusterId,
    java.util.List<String> instanceIps,
    Struct proxyConfig,
    boolean identityVerified) {
  public ProxyView {
    labels = Map.copyOf(labels);
    instanceIps = java.util.List.copyOf(instanceIps);
    java.util.Objects.requireNonNull(proxyConfig, "proxyConfig");
  }

  /** A proxy whose identity no one checked (a plaintext stream). */
  public ProxyView(
      String id,
      String type,
      String ip,
      String namespace,
      Map<String, String> labels,
      String generator,
      Locality locality,
      String serviceAccount,
      String clusterId,
      java.util.List<String> instanceIps) {
    this(
        id,
        type,
        ip,
        namespace,
        labels,
        generator,
        locality,
        serviceAccount,
        clusterId,
        instanceIps,
        Struct.getDefaultInstance(),
        false);
  }

  /**
   * This proxy as a stream's authorizer accepted it: its caller authenticated as a workload of its
   * namespace (and service account, when the node names one).
   */
  public ProxyView verified() {
    return new ProxyView(
        id,
        type,
        ip,
        namespace,
        labels,
        generator,
        locality,
        serviceAccount,
        clusterId,
        instanceIps,
        proxyConfig,
        true);
  }

  /** Whether one of the proxy's addresses is {@code address}. */
  public boolean hasAddress(String address) {
    return address.equals(ip) || instanceIps.contains(address);
  }

  /** Gateways (Istio's {@code router} proxies, such as the stock ingress gateway). */
  public boolean isRouter() {
    return "router".equals(type) && !isProxylessGrpc();
  }

  /** Proxyless gRPC clients say {@code GENERATOR: grpc} in their node metadata. */
  public boolean isProxylessGrpc() {
    return "grpc".equals(generator);
  }

  public static ProxyView of(Node node) {
    String id = node.getId();
    String[] parts = id.split("~", -1);
    String type = parts.length > 0 ? parts[0] : "";
    String ip = parts.length > 1 ? parts[1] : "";
    String namespace = "";
    if (parts.length > 3) {
      String domain = parts[3];
      int dot = domain.indexOf('.');
      namespace = dot < 0 ? domain : domain.substring(0, dot);
    }
    Struct metadata = node.getMetadata();
    String fromMetadata = string(metadata, "NAMESPACE");
    if (!fromMetadata.isEmpty()) {
      namespace = fromMetadata;
    }
    Map<String, String> labels = new TreeMap<>();
    Value labelValue = metadata.getFieldsMap().get("LABELS");
    if (labelValue != null && labelValue.hasStructValue()) {
      labelValue
          .getStructValue()
          .getFieldsMap()
          .forEach((k, v) -> labels.put(k, v.getStringValue()));
    }
    var locality = node.getLocality();
    Value proxyConfig = metadata.getFieldsMap().get("PROXY_CONFIG");
    return new ProxyView(
        id,
        type,
        ip,
        namespace.isEmpty() ? "default" : namespace,
        labels,
        string(metadata, "GENERATOR"),
        new Locality(locality.getRegion(), locality.getZone(), locality.getSubZone()),
        string(metadata, "SERVICE_ACCOUNT"),
        string(metadata, "CLUSTER_ID"),
        instanceIps(string(metadata, "INSTANCE_IPS")),
        proxyConfig != null && proxyConfig.hasStructValue()
            ? proxyConfig.getStructValue()
            : Struct.getDefaultInstance(),
        false);
  }

  /** The agent sends its pod IPs comma-separated. */
  private static java.util.List<String> instanceIps(String value) {
    return value.isEmpty()
        ? java.util.List.of()
        : java.util.Arrays.stream(value.split(","))
            .map(String::trim)
            .filter(ip -> !ip.isEmpty())
            .toList();
  }

  private static String string(Struct struct, String field) {
    Value value = struct.getFieldsMap().get(field);
    return value == null ? "" : value.getStringValue();
  }
}
