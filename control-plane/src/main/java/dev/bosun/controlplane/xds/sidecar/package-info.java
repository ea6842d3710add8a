/** Envoy sidecar configuration: one generator per xDS type (CDS, EDS, LDS, RDS). */
package dev.bosun.controlplane.xds.sidecar;
