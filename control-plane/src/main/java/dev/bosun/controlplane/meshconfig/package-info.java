/**
 * Istio's mesh config: the MeshConfig YAML in key {@code mesh} of ConfigMap {@code istio} (or
 * {@code istio-<revision>}) in Bosun's namespace, parsed over Istio's defaults into a typed value,
 * watched, and fed to the snapshot like any other input. A broken config never replaces a good one.
 */
package dev.bosun.controlplane.meshconfig;
