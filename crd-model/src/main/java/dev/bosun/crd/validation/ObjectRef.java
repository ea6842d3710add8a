package dev.bosun.crd.validation;

/** Names an object in messages: {@code VirtualService default/reviews}. */
public record ObjectRef(String kind, String namespace, String name) {
  @Override
  public String toString() {
    String k = kind == null ? "<no kind>" : kind;
    String n = name == null ? "<no name>" : name;
    return namespace == null ? k + " " + n : k + " " + namespace + "/" + n;
  }
}
