package dev.bosun.controlplane.xds;

import dev.bosun.crd.IstioJson;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.xds.XdsNameResolverProvider;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * grpc-xds channels for tests, each with its own bootstrap: grpc-java reads the global bootstrap
 * once per JVM, so every test registers its own resolver scheme instead.
 */
final class XdsClients {
  private static final AtomicInteger SCHEMES = new AtomicInteger();

  private XdsClients() {}

  /** A channel to {@code target} (host:port) through the xDS server on {@code xdsPort}. */
  static ManagedChannel channel(int xdsPort, String namespace, String target) throws Exception {
    String bootstrap =
        """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
                          "server_features": ["xds_v3"]}],
         "node": {"id": "sidecar~127.0.0.1~client-%d.%s~%s.svc.cluster.local",
                  "metadata": {"GENERATOR": "grpc", "NAMESPACE": "%s"}}}
        """
            .formatted(xdsPort, SCHEMES.get(), namespace, namespace, namespace);
    @SuppressWarnings("unchecked")
    Map<String, ?> parsed = IstioJson.json().readValue(bootstrap, Map.class);
    String scheme = "xds-test-" + SCHEMES.incrementAndGet();
    NameResolverRegistry.getDefaultRegistry()
        .register(XdsNameResolverProvider.createForTest(scheme, parsed));
    return Grpc.newChannelBuilder(scheme + ":///" + target, InsecureChannelCredentials.create())
        .build();
  }
}
