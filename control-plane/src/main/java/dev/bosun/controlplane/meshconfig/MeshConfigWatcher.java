package dev.bosun.controlplane.meshconfig;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * Watches Istio's mesh ConfigMap ({@code istio} or {@code istio-<revision>}, key {@code mesh}) in
 * Bosun's namespace and hands each version to the {@link MeshConfigStore}. A missing ConfigMap or
 * key means Istio's defaults, as for istiod. {@link #start} returns once the ConfigMap as it is now
 * has been applied, so what Bosun reads only at start (trust domain, root namespace) comes from it.
 */
public final class MeshConfigWatcher implements AutoCloseable {
  /** The ConfigMap key holding the MeshConfig YAML. */
  public static final String KEY = "mesh";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final MeshConfigStore store;
  private SharedIndexInformer<ConfigMap> informer;

  public MeshConfigWatcher(
      KubernetesClient client, String namespace, String name, MeshConfigStore store) {
    this.client = requireNonNull(client, "client");
    this.namespace = requireNonNull(namespace, "namespace");
    this.name = requireNonNull(name, "name");
    this.store = requireNonNull(store, "store");
  }

  /** Istio's name of the mesh ConfigMap of a revision: {@code istio}, or {@code istio-<rev>}. */
  public static String configMapName(String revision) {
    return revision == null || revision.isEmpty() || revision.equals("default")
        ? "istio"
        : "istio-" + revision;
  }

  /** Lists and watches the ConfigMap and applies its current version before returning. */
  public MeshConfigWatcher start() {
    informer =
        client
            .configMaps()
            .inNamespace(namespace)
            .withName(name)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(ConfigMap configMap) {
                    apply(configMap);
                  }

                  @Override
                  public void onUpdate(ConfigMap before, ConfigMap configMap) {
                    apply(configMap);
                  }

                  @Override
                  public void onDelete(ConfigMap configMap, boolean unknownFinalState) {
                    store.update(null, origin() + " (deleted)");
                  }
                },
                0);
    // The handler runs on the informer's thread; apply what was listed now, so the caller sees it.
    apply(informer.getStore().getByKey(namespace + "/" + name));
    return this;
  }

  private void apply(ConfigMap configMap) {
    if (configMap == null) {
      store.update(null, origin() + " (not found)");
      return;
    }
    String yaml = configMap.getData() == null ? null : configMap.getData().get(KEY);
    store.update(yaml, yaml == null ? origin() + " (no key " + KEY + ")" : origin());
  }

  private String origin() {
    return "ConfigMap " + namespace + "/" + name;
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
