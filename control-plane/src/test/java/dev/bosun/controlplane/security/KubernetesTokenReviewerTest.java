package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bosun.ca.TokenAuthenticator.AuthenticationException;
import dev.bosun.ca.TokenAuthenticator.CallerIdentity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Service-account tokens reviewed by the (mock) API server, as the CA authenticates callers. */
@EnableKubernetesMockClient(crud = true)
class KubernetesTokenReviewerTest {
  KubernetesClient client;
  KubernetesMockServer server;
  private KubernetesTokenReviewer reviewer;

  @BeforeEach
  void setUp() {
    TokenReviews.install(server);
    reviewer = new KubernetesTokenReviewer(client, "istio-ca");
  }

  @Test
  void validToken_isTheServiceAccountItWasIssuedFor() throws Exception {
    CallerIdentity caller =
        reviewer.authenticate(TokenReviews.token("shop", "frontend", "istio-ca"));

    assertThat(caller).isEqualTo(new CallerIdentity("shop", "frontend"));
  }

  @Test
  void anAcceptedTokenIsRemembered_andARefusedOneBriefly() throws Exception {
    String token = TokenReviews.token("shop", "frontend", "istio-ca");
    int before = server.getRequestCount();
    reviewer.authenticate(token);
    reviewer.authenticate(token);
    assertThat(server.getRequestCount() - before).as("one review for two calls").isEqualTo(1);

    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> reviewer.authenticate("garbage"))
          .isInstanceOf(AuthenticationException.class)
          .hasMessage("the token is not authenticated: [invalid bearer token]");
    }
    assertThat(server.getRequestCount() - before)
        .as("a garbage token repeated costs one review while its refusal is remembered")
        .isEqualTo(2);
    assertThatThrownBy(() -> reviewer.authenticate("other-garbage"))
        .isInstanceOf(AuthenticationException.class);
    assertThat(server.getRequestCount() - before).as("another token is reviewed").isEqualTo(3);
  }

  @Test
  void refusals_sayWhy() {
    assertThatThrownBy(() -> reviewer.authenticate(null))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("no bearer token in the authorization header");
    assertThatThrownBy(() -> reviewer.authenticate("garbage"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("the token is not authenticated: [invalid bearer token]");
    assertThatThrownBy(() -> reviewer.authenticate("expired:shop:frontend"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage("the token is not authenticated: [invalid bearer token, token has expired]");
    assertThatThrownBy(() -> reviewer.authenticate("impostor:shop:frontend"))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage(
            "the token's user system:serviceaccount:shop:frontend is not a service account");
    assertThatThrownBy(
            () -> reviewer.authenticate(TokenReviews.token("shop", "frontend", "kubernetes")))
        .isInstanceOf(AuthenticationException.class)
        .hasMessage(
            "the token is not authenticated: [invalid bearer token, token audiences"
                + " [\"kubernetes\"] is invalid for the target audiences [istio-ca]]");
  }
}
