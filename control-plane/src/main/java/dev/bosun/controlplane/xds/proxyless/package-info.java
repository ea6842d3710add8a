/** Proxyless gRPC (grpc-xds) configuration: one generator per xDS type (LDS, RDS, CDS, EDS). */
package dev.bosun.controlplane.xds.proxyless;
