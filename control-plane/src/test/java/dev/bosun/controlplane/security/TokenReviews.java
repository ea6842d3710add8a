package dev.bosun.controlplane.security;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;

/**
 * The API server's token authenticator, for fabric8's mock server (which stores TokenReviews but
 * never reviews them). A token {@code sa:<namespace>:<name>:<audience>} is a valid service-account
 * token for that audience (a review asking for other audiences fails, as on a real API server);
 * {@code expired:...} is one the API server says has expired; anything else is unknown.
 */
public final class TokenReviews {
  private TokenReviews() {}

  /** A token for a service account, for {@code audience}. */
  public static String token(String namespace, String serviceAccount, String audience) {
    return "sa:" + namespace + ":" + serviceAccount + ":" + audience;
  }

  public static void install(KubernetesMockServer server) {
    server
        .expect()
        .post()
        .withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(201, request -> review(request.getUtf8Body()))
        .always();
  }

  private static TokenReview review(String body) {
    TokenReview review = Serialization.unmarshal(body, TokenReview.class);
    String token = review.getSpec().getToken();
    String[] parts = token.split(":", -1);
    TokenReviewStatusBuilder status = new TokenReviewStatusBuilder();
    List<String> wanted = review.getSpec().getAudiences();
    if (parts.length == 4
        && parts[0].equals("sa")
        && wanted != null
        && !wanted.isEmpty()
        && !wanted.contains(parts[3])) {
      status
          .withAuthenticated(false)
          .withError(
              "[invalid bearer token, token audiences [\""
                  + parts[3]
                  + "\"] is invalid for the target audiences "
                  + wanted
                  + "]");
    } else if (parts.length == 4 && parts[0].equals("sa")) {
      status
          .withAuthenticated(true)
          .withAudiences(List.of(parts[3]))
          .withNewUser()
          .withUsername("system:serviceaccount:" + parts[1] + ":" + parts[2])
          .withGroups("system:serviceaccounts", "system:serviceaccounts:" + parts[1])
          .endUser();
    } else if (parts.length == 3 && parts[0].equals("impostor")) {
      // A user from another authenticator whose name merely looks like a service account's.
      status
          .withAuthenticated(true)
          .withNewUser()
          .withUsername("system:serviceaccount:" + parts[1] + ":" + parts[2])
          .withGroups("oidc:engineers")
          .endUser();
    } else if (parts[0].equals("expired")) {
      status.withAuthenticated(false).withError("[invalid bearer token, token has expired]");
    } else {
      status.withAuthenticated(false).withError("[invalid bearer token]");
    }
    review.setStatus(status.build());
    return review;
  }
}
