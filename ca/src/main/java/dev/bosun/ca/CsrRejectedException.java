package dev.bosun.ca;

import static java.util.Objects.requireNonNull;

/**
 * A certificate signing request the CA will not sign. The {@link Reason} tells the API layer which
 * status to answer with; the message tells the person reading the workload's log what to fix.
 */
public final class CsrRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a CSR was refused. */
  public enum Reason {
    /** Not a PEM PKCS#10 request, a broken self-signature, or no identity requested. */
    INVALID_CSR,
    /** A key type or size the CA does not certify. */
    WEAK_OR_UNSUPPORTED_KEY,
    /** The request names an identity other than the caller's. */
    IDENTITY_MISMATCH,
    /** The requested lifetime is longer than the CA allows. */
    TTL_TOO_LONG
  }

  private final Reason reason;

  public CsrRejectedException(Reason reason, String message) {
    super(requireNonNull(message, "message"));
    this.reason = requireNonNull(reason, "reason");
  }

  public CsrRejectedException(Reason reason, String message, Throwable cause) {
    super(requireNonNull(message, "message"), cause);
    this.reason = requireNonNull(reason, "reason");
  }

  /** Why the request was refused. */
  public Reason reason() {
    return reason;
  }
}
