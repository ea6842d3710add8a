package dev.bosun.controlplane.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Map;
import java.util.TreeMap;

/** Nodes as the Istio agent introduces a sidecar: id, namespace, labels, cluster and version. */
final class TestNodes {
  private TestNodes() {}

  static Node sidecar(String id, String namespace, Map<String, String> labels) {
    Struct.Builder labelStruct = Struct.newBuilder();
    new TreeMap<>(labels)
        .forEach((k, v) -> labelStruct.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return Node.newBuilder()
        .setId(id)
        .setMetadata(
            Struct.newBuilder()
                .putFields("NAMESPACE", string(namespace))
                .putFields("CLUSTER_ID", string("Kubernetes"))
                .putFields("ISTIO_VERSION", string("1.27.0"))
                .putFields("LABELS", Value.newBuilder().setStructValue(labelStruct).build()))
        .build();
  }

  private static Value string(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }
}
