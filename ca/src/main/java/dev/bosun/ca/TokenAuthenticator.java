package dev.bosun.ca;

/**
 * Turns the bearer token a workload presents into the identity it proves. The identity comes from
 * whoever vouches for the token (the Kubernetes API server's TokenReview), never from the request.
 */
@FunctionalInterface
public interface TokenAuthenticator {

  /**
   * The caller's identity.
   *
   * @throws AuthenticationException if the token is not valid, expired, or not for this audience
   */
  CallerIdentity authenticate(String token) throws AuthenticationException;

  /** The {@code authorization} header Istio's clients send their token in. */
  io.grpc.Metadata.Key<String> AUTHORIZATION =
      io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

  /** The token of an {@code authorization: Bearer <token>} header, or null without one. */
  static String bearerToken(io.grpc.Metadata headers) {
    String value = headers.get(AUTHORIZATION);
    String bearer = "Bearer ";
    return value != null && value.regionMatches(true, 0, bearer, 0, bearer.length())
        ? value.substring(bearer.length()).trim()
        : null;
  }

  /** A workload identity: the namespace and service account a token was issued for. */
  record CallerIdentity(String namespace, String serviceAccount) {

    /** {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}. */
    public String spiffeId(String trustDomain) {
      return SpiffeId.of(trustDomain, namespace, serviceAccount);
    }

    @Override
    public String toString() {
      return namespace + "/" + serviceAccount;
    }
  }

  /** The token did not prove an identity; the message says why and is safe to return. */
  class AuthenticationException extends Exception {
    public AuthenticationException(String message) {
      super(message);
    }
  }

  /**
   * The token could not be checked now (too many checks in flight): the caller should retry, and is
   * told so ({@code UNAVAILABLE}), not that its token is bad.
   */
  final class Overloaded extends AuthenticationException {
    public Overloaded(String message) {
      super(message);
    }
  }
}
