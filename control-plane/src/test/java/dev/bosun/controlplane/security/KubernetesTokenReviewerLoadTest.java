package dev.bosun.controlplane.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.ca.TokenAuthenticator;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An API server slow to review tokens: the reviews in flight are capped, and callers beyond the cap
 * are told to retry ({@link TokenAuthenticator.Overloaded}) instead of piling up.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesTokenReviewerLoadTest {
  KubernetesClient client;
  KubernetesMockServer server;

  @Test
  void reviewsInFlightAreCapped_callersBeyondTheCapAreToldToRetry() throws Exception {
    server
        .expect()
        .post()
        .delay(3, TimeUnit.SECONDS)
        .withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(
            201,
            request -> {
              TokenReview review =
                  Serialization.unmarshal(request.getUtf8Body(), TokenReview.class);
              review.setStatus(
                  new TokenReviewStatusBuilder()
                      .withAuthenticated(false)
                      .withError("[invalid bearer token]")
                      .build());
              return review;
            })
        .always();
    KubernetesTokenReviewer reviewer = new KubernetesTokenReviewer(client, "istio-ca");
    int callers = KubernetesTokenReviewer.MAX_CONCURRENT_REVIEWS + 8;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    List<Future<String>> outcomes = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      String token = "garbage-" + i;
      outcomes.add(
          pool.submit(
              () -> {
                try {
                  reviewer.authenticate(token);
                  return "accepted";
                } catch (TokenAuthenticator.Overloaded e) {
                  return "retry";
                } catch (TokenAuthenticator.AuthenticationException e) {
                  return "refused";
                }
              }));
    }
    List<String> seen = new ArrayList<>();
    for (Future<String> outcome : outcomes) {
      seen.add(outcome.get(30, TimeUnit.SECONDS));
    }
    pool.shutdownNow();
    reviewer.close();

    assertThat(seen.stream().filter("refused"::equals).count())
        .as("let through to the API server, which refused them")
        .isEqualTo(KubernetesTokenReviewer.MAX_CONCURRENT_REVIEWS);
    assertThat(seen.stream().filter("retry"::equals).count())
        .as("beyond the cap: told to retry, no review")
        .isEqualTo(8);
  }
}
