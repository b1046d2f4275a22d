package dev.kavach;

import dev.kavach.backend.Enforcement;
import dev.kavach.scanning.ScanReport;
import dev.kavach.scoring.StrengthScore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How one exec ended, what it printed, what isolation was in force and how strong it was.
 *
 * <p>A signal death reads {@code exitCode == 128 + signal}, as in a shell, with {@link #signal()}
 * set; a timeout kills the whole process tree and sets {@link #timedOut()}. Output past the
 * sandbox's per-stream cap is drained and discarded, never by killing the writer, and the
 * truncation flags say so.
 *
 * @param exitCode exit status, or 128+N when killed by signal N
 * @param signal the killing signal, if any
 * @param timedOut whether the timeout killed the command
 * @param oomKilled whether the memory limit killed the command
 * @param stdout standard output (after the externalization gate, when configured)
 * @param stderr standard error (after the externalization gate, when configured)
 * @param stdoutTruncated whether standard output was cut at the cap
 * @param stderrTruncated whether standard error was cut at the cap
 * @param duration wall-clock time
 * @param enforcement what the backend actually applied
 * @param score strength computed from {@code enforcement}
 * @param scan the gate's findings and verdict, when a gate is configured
 * @param usage CPU time and peak memory, when the backend measures them
 */
// Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record ExecResult(
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
    StrengthScore score,
    Optional<ScanReport> scan,
    Optional<ResourceUsage> usage) {

  /** Validates required fields. */
  public ExecResult {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(stdout, "stdout");
    Objects.requireNonNull(stderr, "stderr");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(enforcement, "enforcement");
    Objects.requireNonNull(score, "score");
    Objects.requireNonNull(scan, "scan");
    Objects.requireNonNull(usage, "usage");
  }

  /** A copy of standard output. */
  @Override
  public byte[] stdout() {
    return stdout.clone();
  }

  /** A copy of standard error. */
  @Override
  public byte[] stderr() {
    return stderr.clone();
  }

  /** Standard output decoded as UTF-8; malformed bytes become U+FFFD. */
  public String stdoutText() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  /** Standard error decoded as UTF-8; malformed bytes become U+FFFD. */
  public String stderrText() {
    return new String(stderr, StandardCharsets.UTF_8);
  }

  /** Whether the command exited with status 0 on its own. */
  public boolean succeeded() {
    return exitCode == 0 && !timedOut && signal.isEmpty();
  }

  @Override
  public String toString() {
    return "ExecResult[exitCode="
        + exitCode
        + ", signal="
        + signal
        + ", timedOut="
        + timedOut
        + ", oomKilled="
        + oomKilled
        + ", stdout="
        + stdout.length
        + " bytes"
        + (stdoutTruncated ? " (truncated)" : "")
        + ", stderr="
        + stderr.length
        + " bytes"
        + (stderrTruncated ? " (truncated)" : "")
        + ", duration="
        + duration
        + ", score="
        + score
        + "]";
  }

  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }
}
