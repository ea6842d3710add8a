package dev.bosun.controlplane.model;

/** The gateway names VirtualServices write, resolved to the {@code namespace/name} they mean. */
public final class GatewayName {
  /** The name VirtualServices use for the sidecars of the mesh. */
  public static final String MESH = "mesh";

  private GatewayName() {}

  /**
   * A VirtualService's name for a gateway as istiod resolves it: {@code mesh} stays, {@code
   * namespace/name} is kept ({@code ./name} is in the VirtualService's namespace), a legacy {@code
   * name.namespace.svc.<suffix>} is {@code namespace/name}, and a short name is in the
   * VirtualService's namespace.
   */
  public static String resolve(String written, String virtualServiceNamespace) {
    if (written.equals(MESH)) {
      return written;
    }
    int slash = written.indexOf('/');
    if (slash >= 0) {
      String namespace = written.substring(0, slash);
      return (namespace.equals(".") ? virtualServiceNamespace : namespace)
          + written.substring(slash);
    }
    int dot = written.indexOf('.');
    if (dot > 0) {
      String rest = written.substring(dot + 1);
      int next = rest.indexOf('.');
      String namespace = next < 0 ? rest : rest.substring(0, next);
      return namespace + "/" + written.substring(0, dot);
    }
    return virtualServiceNamespace + "/" + written;
  }
}
