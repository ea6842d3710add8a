/**
 * Traffic translation both client kinds share: routes from VirtualServices and endpoint assignments
 * from the registry and DestinationRules.
 */
package dev.bosun.controlplane.xds.traffic;
