package dev.bosun.crd.validation;

import static java.util.Objects.requireNonNull;

import dev.bosun.crd.IstioKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Optional;

/**
 * What the validator concluded about one document: a kind Bosun does not own (skipped), or an Istio
 * object with its violations and, when it could be read, its typed form.
 */
public record ValidationResult(
    ObjectRef ref,
    Optional<IstioKind> kind,
    Optional<HasMetadata> resource,
    List<Violation> violations) {

  public ValidationResult {
    requireNonNull(ref, "ref");
    requireNonNull(kind, "kind");
    requireNonNull(resource, "resource");
    violations = List.copyOf(violations);
  }

  static ValidationResult notOwned(ObjectRef ref) {
    return new ValidationResult(ref, Optional.empty(), Optional.empty(), List.of());
  }

  /** Whether this is a kind Bosun validates (an Istio kind of its model). */
  public boolean owned() {
    return kind.isPresent() || !violations.isEmpty();
  }

  public boolean valid() {
    return violations.isEmpty();
  }

  /** One line per violation: {@code VirtualService default/reviews: spec.http[0]: ...}. */
  public List<String> messages() {
    return violations.stream().map(v -> ref + ": " + v).toList();
  }
}
