/**
 * Who is asking and what changed: the proxy as its node describes it, the part of it its outbound
 * configuration depends on, its Sidecar scope, the change a push carries, and the contract every
 * per-type generator implements.
 */
package dev.bosun.controlplane.xds.scope;
