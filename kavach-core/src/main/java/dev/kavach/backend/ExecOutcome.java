package dev.kavach.backend;

import dev.kavach.ResourceUsage;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * What a backend observed for one exec. {@link dev.kavach.Sandbox} adds the score and the scan and
 * turns it into an {@link dev.kavach.ExecResult}.
 *
 * @param exitCode exit status; 128+N when killed by signal N
 * @param signal the signal that killed the command, if any
 * @param timedOut whether the timeout killed it
 * @param oomKilled whether the memory limit killed it
 * @param stdout captured standard output, at most the output limit
 * @param stderr captured standard error, at most the output limit
 * @param stdoutTruncated whether standard output exceeded the limit
 * @param stderrTruncated whether standard error exceeded the limit
 * @param duration wall-clock time of the exec
 * @param enforcement what was actually applied
 * @param usage resource accounting, when the backend measures it
 */
// Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record ExecOutcome(
    int exitCode,
    OptionalInt signal,
    boolean timedOut,
    boolean oomKilled,
    byte[] stdout,
    byte[] stderr,
    boolean stdoutTruncated,
    boolean stderrTruncated,
    Duration duration,
    Enforcement enforcement,
    @Nullable ResourceUsage usage) {

  /** Validates required fields. */
  public ExecOutcome {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderr, "stderr");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(enforcement, "enforcement");
  }
}
