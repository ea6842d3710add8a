package dev.bosun.ca;

/**
 * CA material that cannot be used: a missing or unreadable key of the Secret, a key that does not
 * match its certificate, a broken or expired chain. The message names the Secret key and
 * certificate at fault and what was expected; the control plane refuses to start on it.
 */
public final class CaConfigurationException extends Exception {
  private static final long serialVersionUID = 1L;

  public CaConfigurationException(String message) {
    super(message);
  }

  public CaConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
