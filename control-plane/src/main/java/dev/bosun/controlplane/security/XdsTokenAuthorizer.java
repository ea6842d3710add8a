package dev.bosun.controlplane.security;

import dev.bosun.ca.TokenAuthenticator;
import dev.bosun.ca.TokenAuthenticator.AuthenticationException;
import dev.bosun.ca.TokenAuthenticator.CallerIdentity;
import dev.bosun.controlplane.xds.scope.ProxyView;
import dev.bosun.xds.StreamAuthorizer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * xDS authorization on the TLS port, as istiod does it: the caller authenticates with its
 * service-account token (the Istio agent sends it as {@code authorization: Bearer ...}), and may
 * only ask for the config of a proxy in its own namespace, running as its own service account when
 * the node says which. Anyone else would read another workload's config.
 */
public final class XdsTokenAuthorizer implements StreamAuthorizer {

  private final TokenAuthenticator tokens;

  public XdsTokenAuthorizer(TokenAuthenticator tokens) {
    this.tokens = tokens;
  }

  @Override
  public Status authorize(Metadata headers, Node node) {
    CallerIdentity caller;
    try {
      caller = tokens.authenticate(TokenAuthenticator.bearerToken(headers));
    } catch (TokenAuthenticator.Overloaded e) {
      return Status.UNAVAILABLE.withDescription("authentication unavailable: " + e.getMessage());
    } catch (AuthenticationException e) {
      return Status.UNAUTHENTICATED.withDescription("authentication failed: " + e.getMessage());
    }
    ProxyView proxy = ProxyView.of(node);
    boolean sameNamespace = proxy.namespace().equals(caller.namespace());
    boolean sameAccount =
        proxy.serviceAccount().isEmpty() || proxy.serviceAccount().equals(caller.serviceAccount());
    if (!sameNamespace || !sameAccount) {
      return Status.PERMISSION_DENIED.withDescription(
          "authorization failed: identity "
              + caller
              + " may not speak for proxy "
              + node.getId()
              + " ("
              + proxy.namespace()
              + (proxy.serviceAccount().isEmpty() ? "" : "/" + proxy.serviceAccount())
              + ")");
    }
    return null;
  }
}
