package dev.kavach;

import java.util.Locale;

/**
 * The lifecycle states of a {@link Sandbox}.
 *
 * <p>Allowed transitions, as in the Rust crate plus {@code CREATED -> DESTROYED}: created to
 * running or destroyed; running to paused, stopped or destroyed; paused to running, stopped or
 * destroyed; stopped to destroyed. Nothing leaves {@code DESTROYED}.
 */
public enum SandboxState {
  /** Configured and validated; nothing allocated on the host yet. */
  CREATED,
  /** Resources allocated; accepts execs. */
  RUNNING,
  /** Every process of the sandbox is frozen. */
  PAUSED,
  /** Every process was killed; no further execs. The workspace is kept until destroy. */
  STOPPED,
  /** Everything released. Terminal. */
  DESTROYED;

  /** Whether the state machine allows moving from this state to {@code target}. */
  public boolean canTransitionTo(SandboxState target) {
    return switch (this) {
      case CREATED -> target == RUNNING || target == DESTROYED;
      case RUNNING -> target == PAUSED || target == STOPPED || target == DESTROYED;
      case PAUSED -> target == RUNNING || target == STOPPED || target == DESTROYED;
      case STOPPED -> target == DESTROYED;
      case DESTROYED -> false;
    };
  }

  /** Lower-case name, as the Rust crate displays it. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
