package dev.bosun.crd.validation;

import java.net.URI;
import java.net.URISyntaxException;

/** RequestAuthentication rules: JWT issuers, key sources, token locations and claim headers. */
final class RequestAuthenticationValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    Rules.selectorOrTargetRefs(spec, "selector", out);
    for (DocNode rule : spec.field("jwtRules").items()) {
      DocNode issuer = rule.field("issuer");
      boolean noIssuer = issuer.text() == null || issuer.text().isEmpty();
      DocNode jwksUri =
          rule.field("jwksUri").isSet() ? rule.field("jwksUri") : rule.field("jwks_uri");
      boolean noJwksUri = jwksUri.text() == null || jwksUri.text().isEmpty();
      if (noIssuer && noJwksUri) {
        // istiod: a rule needs an issuer or a jwksUri. Two rules of one issuer are accepted.
        out.missing(issuer.path(), "an issuer (or a jwksUri) such as https://accounts.example.com");
      }
      if (rule.field("jwksUri").isSet() && rule.field("jwks_uri").isSet()) {
        out.add(rule.path(), "sets both jwksUri and jwks_uri (expected: one spelling)");
      }
      if (jwksUri.text() != null) {
        if (!isHttpUrl(jwksUri.text())) {
          out.invalid(jwksUri.path(), jwksUri.text(), "an http:// or https:// URL");
        }
      }
      for (DocNode header : rule.field("fromHeaders").items()) {
        String name = header.field("name").text();
        if (name != null) {
          Rules.headerName(header.field("name"), name, out);
        }
      }
      for (DocNode claim : rule.field("outputClaimToHeaders").items()) {
        String header = claim.field("header").text();
        if (header != null && !header.matches("[-_A-Za-z0-9]+")) {
          out.invalid(claim.field("header").path(), header, "a header name of [-_A-Za-z0-9]");
        }
        if ("".equals(claim.field("claim").text())) {
          out.invalid(claim.field("claim").path(), "", "a claim name");
        }
      }
      String payloadHeader = rule.field("outputPayloadToHeader").text();
      if (payloadHeader != null) {
        Rules.headerName(rule.field("outputPayloadToHeader"), payloadHeader, out);
      }
      Rules.atLeastOneMilli(rule.field("timeout"), out);
    }
  }

  private static boolean isHttpUrl(String value) {
    try {
      URI uri = new URI(value);
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
