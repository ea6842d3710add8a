/**
 * Who is asking and what changed: the proxy as its node describes it, the part of it its outbound
 * configuration depends on, its Sidecar scope, the change a push carries, and the contract every
 * per-type generator implements: resources and the warnings about the config they came from,
 * returned together ({@link dev.bosun.controlplane.xds.scope.Generated}); and the pieces of route
 * configuration that outlive a snapshot while no change touches their host ({@link
 * dev.bosun.controlplane.xds.scope.CarriedRoutes}).
 */
package dev.bosun.controlplane.xds.scope;
