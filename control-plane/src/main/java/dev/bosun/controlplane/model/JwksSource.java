package dev.bosun.controlplane.model;

import static java.util.Objects.requireNonNull;

/**
 * Where the signing keys of one JWT issuer come from, as a RequestAuthentication's rule names them:
 * its {@code jwksUri}, or, when that is empty, the {@code jwks_uri} the issuer's OpenID discovery
 * document gives. Bosun fetches the keys and sends them to proxies inline, as istiod does.
 */
public record JwksSource(String issuer, String jwksUri) {
  /**
   * What proxies are sent while no keys are known for a source: one RSA public key whose private
   * key was discarded as soon as it was made, so no token verifies against it and every request
   * carrying one is refused (fail closed).
   */
  public static final String FAIL_CLOSED_JWKS =
      "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\""
          + "uHpsIPdXw_A6tGyAKsbiTKjcVZGAGCH1nYNKkbRgT79PJ93F1__-HnqxmqYwX3kH75TxhNUCXF43DIEkwWW4efxF"
          + "Sv_XlkXl0__dZLqeM-USGWVY5qV2NgEEs2NHh7ErQVXd9cKc23w5NNCsD_O-OBw1jte1e3QWmIS8qCz1G1loNs"
          + "nuHNsvyv6ntpuscKaNy87EfGBPiYr9eCc1vtYgeK_bRhBT6Hz-89P7N5v2SQl7Nc5tVxQBkqJbaE070EofU0AW"
          + "t3vSBwmVO-vcXOnnl58YblsHAm_ORLLPdLdoprEg1_DArIPVAR3CFBIB-HcQEuNKgGIv6fLbFqiUhsEpUQ"
          + "\"}]}";

  public JwksSource {
    requireNonNull(issuer, "issuer");
    requireNonNull(jwksUri, "jwksUri");
  }

  /** Where the keys of a JWT rule without inline {@code jwks} come from. */
  public static JwksSource of(io.fabric8.istio.api.api.security.v1beta1.JWTRule rule) {
    String uri = rule.getJwksUri() == null ? "" : rule.getJwksUri();
    if (uri.isEmpty() && rule.getAdditionalProperties().get("jwks_uri") instanceof String proto) {
      uri = proto; // the proto spelling, which Istio reads too
    }
    return new JwksSource(rule.getIssuer() == null ? "" : rule.getIssuer(), uri);
  }

  /** Whether the keys' address must first be discovered from the issuer. */
  public boolean discovered() {
    return jwksUri.isEmpty();
  }

  @Override
  public String toString() {
    return discovered() ? issuer + " (OpenID discovery)" : jwksUri;
  }
}
