/**
 * Envoy messages with Istio's names and defaults: cluster and listener names, addresses, filters,
 * route actions, TLS contexts and cluster settings. They translate what policy resolution decided;
 * nothing is resolved here.
 */
package dev.bosun.controlplane.xds.envoy;
