/**
 * Istio policy resolved for one proxy or cluster: DestinationRule traffic policy, upstream TLS and
 * auto mTLS, PeerAuthentication, locality load balancing, and AuthorizationPolicy as RBAC filters.
 */
package dev.bosun.controlplane.xds.policy;
