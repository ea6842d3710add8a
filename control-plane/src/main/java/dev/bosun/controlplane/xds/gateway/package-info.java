/** Envoy gateway (router) configuration: Gateways merged per proxy, one generator per xDS type. */
package dev.bosun.controlplane.xds.gateway;
