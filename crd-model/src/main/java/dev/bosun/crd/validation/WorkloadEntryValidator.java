package dev.bosun.crd.validation;

/** WorkloadEntry rules: the same as a ServiceEntry endpoint. */
final class WorkloadEntryValidator implements SpecValidator {
  @Override
  public void validate(DocNode spec, Problems out) {
    ServiceEntryValidator.workloadEndpoint(spec, false, null, out);
    for (var port : spec.field("ports").entries()) {
      if (port.getKey().isEmpty()
          || port.getKey().length() > 63
          || !port.getKey().matches("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?")) {
        out.invalid(
            spec.field("ports").path(),
            port.getKey(),
            "a port name: alphanumerics and '-', at most 63 characters");
      }
    }
  }
}
