package dev.kavach;

import org.jspecify.annotations.Nullable;

/**
 * The one unchecked exception of kavach. Every failure carries a stable {@link Reason}, so callers
 * can branch on it without parsing messages.
 *
 * <p>An exec whose command exits non-zero, dies by a signal or times out is not an exception; it is
 * an {@link ExecResult}.
 */
public class KavachException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why an operation failed. */
  public enum Reason {
    /** The backend is unknown or cannot run on this host. */
    BACKEND_UNAVAILABLE,
    /** A policy or configuration value is invalid; the message names the field. */
    POLICY_INVALID,
    /** A lifecycle transition that the state machine does not allow. */
    INVALID_TRANSITION,
    /** An operation that needs another state (for example exec on a paused sandbox). */
    INVALID_STATE,
    /** A control the policy asks for could not be applied on this host; nothing was run. */
    ENFORCEMENT_FAILED,
    /** The sandbox could not be set up (launcher or runtime failure) before the command ran. */
    LAUNCH_FAILED,
    /** A secret could not be resolved or injected. */
    CREDENTIAL,
    /** An I/O error on the host side. */
    IO
  }

  private final Reason reason;

  /** Creates an exception with a reason and a message that names the cause. */
  public KavachException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Creates an exception with a reason, a message and the underlying cause. */
  public KavachException(Reason reason, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** The stable reason code. */
  public Reason reason() {
    return reason;
  }
}
