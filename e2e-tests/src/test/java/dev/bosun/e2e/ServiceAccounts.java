package dev.bosun.e2e;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * ServiceAccounts as the tests need them on any API server: created where a bare API server (no
 * controller manager) would have none, and tokens for them through the TokenRequest API.
 */
final class ServiceAccounts {
  private ServiceAccounts() {}

  /** Creates ServiceAccount {@code name} in {@code namespace} unless it is there. */
  static void ensure(KubernetesClient client, String namespace, String name) {
    client
        .serviceAccounts()
        .inNamespace(namespace)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(name)
                .endMetadata()
                .build())
        .createOr(existing -> existing.update());
  }

  /**
   * An hour's token for ServiceAccount {@code name}, for {@code audiences} (none: the API server's
   * own).
   */
  static String token(KubernetesClient client, String namespace, String name, String... audiences) {
    return client
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(name)
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withAudiences(audiences)
                .withExpirationSeconds(3600L)
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }
}
