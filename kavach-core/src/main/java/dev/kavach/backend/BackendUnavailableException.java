package dev.kavach.backend;

import dev.kavach.KavachException;
import java.util.List;

/**
 * No backend could be used. The message, and {@link #attempts()}, list every backend considered and
 * why it was skipped.
 */
public final class BackendUnavailableException extends KavachException {
  private static final long serialVersionUID = 1L;

  private final List<String> attempts;

  /** Creates the exception from a summary and one line per backend considered. */
  public BackendUnavailableException(String summary, List<String> attempts) {
    super(Reason.BACKEND_UNAVAILABLE, format(summary, attempts));
    this.attempts = List.copyOf(attempts);
  }

  /** One line per backend considered: {@code name: why it was skipped}. */
  public List<String> attempts() {
    return attempts;
  }

  private static String format(String summary, List<String> attempts) {
    if (attempts.isEmpty()) {
      return summary;
    }
    return summary + " (" + String.join("; ", attempts) + ")";
  }
}
