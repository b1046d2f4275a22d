package dev.kavach.backend;

import java.util.Objects;

/**
 * Whether a backend can run on this host, and why, in words a person can act on.
 *
 * @param available whether the backend can run here
 * @param reason what was found (the runtime and its version) or what is missing
 */
public record Availability(boolean available, String reason) {

  /** Validates the reason is present. */
  public Availability {
    Objects.requireNonNull(reason, "reason");
  }

  /** An available backend, with what was found. */
  public static Availability available(String reason) {
    return new Availability(true, reason);
  }

  /** An unavailable backend, with what is missing. */
  public static Availability unavailable(String reason) {
    return new Availability(false, reason);
  }
}
