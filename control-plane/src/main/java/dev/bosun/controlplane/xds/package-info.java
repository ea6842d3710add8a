/**
 * The xDS side of the pipeline, wired together: {@link dev.bosun.controlplane.xds.MeshXdsGenerator}
 * answers the xDS server from the generator of each type and client kind, and {@link
 * dev.bosun.controlplane.xds.XdsPushes} turns each new snapshot into a push that reaches only the
 * types of the proxies the change concerns. Generators never log: the warnings they return with
 * their resources are logged by {@link dev.bosun.controlplane.xds.WarningLog}, once per message and
 * interval however many proxies share the config.
 *
 * <p>Below it, by role: {@code scope} (who is asking and what changed), {@code sidecar}, {@code
 * gateway} and {@code proxyless} (one generator per xDS type), {@code traffic} (routes and endpoint
 * assignments shared by both kinds), {@code policy} (Istio policy resolved for a proxy or cluster)
 * and {@code envoy} (Envoy messages with Istio's names).
 */
package dev.bosun.controlplane.xds;
