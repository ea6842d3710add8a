package dev.bosun.controlplane.security;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;

/**
 * A second client to the same API server for calls that must answer quickly or fail: no retries and
 * a short timeout, where the shared client's defaults could hold a call for about 20 s while the
 * API server is away (a Lease renewal, a TokenReview on a workload's request).
 */
final class FailFastClient {
  private FailFastClient() {}

  static KubernetesClient of(KubernetesClient client, Duration timeout) {
    int millis = (int) Math.max(1, timeout.toMillis());
    Config config =
        new ConfigBuilder(client.getConfiguration())
            .withRequestRetryBackoffLimit(0)
            .withRequestTimeout(millis)
            .withConnectionTimeout(millis)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
