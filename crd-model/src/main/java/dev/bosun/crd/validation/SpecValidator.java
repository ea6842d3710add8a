package dev.bosun.crd.validation;

/**
 * The semantic rules of one kind, run on a spec that has already passed or been reported by the
 * schema check. Rules read the raw tree so paths and values are exactly what the user wrote.
 */
interface SpecValidator {
  void validate(DocNode spec, Problems out);

  /**
   * As {@link #validate(DocNode, Problems)}, for rules that also read the object's namespace
   * ({@code null} when the document names none).
   */
  default void validate(DocNode spec, String namespace, Problems out) {
    validate(spec, out);
  }
}
