package dev.bosun.controlplane.webhook.inject;

/** A pod that cannot be injected; the message says which field and why, for the user. */
public final class InjectionException extends Exception {
  public InjectionException(String message) {
    super(message);
  }
}
