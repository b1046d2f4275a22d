package dev.kavach.scanning;

import java.util.Objects;

/**
 * How the externalization gate treats output before it leaves the sandbox. Defaults are the Rust
 * crate's: enabled, 50 MiB maximum, block at critical, quarantine at high, redact.
 *
 * @param enabled whether the gate runs
 * @param maxArtifactSizeBytes larger outputs are blocked
 * @param blockThreshold findings at or above this severity block the output
 * @param quarantineThreshold findings at or above this severity quarantine the output
 * @param redactSecrets whether lesser findings are redacted as {@code [REDACTED:<category>]}
 */
public record ExternalizationPolicy(
    boolean enabled,
    long maxArtifactSizeBytes,
    Severity blockThreshold,
    Severity quarantineThreshold,
    boolean redactSecrets) {

  /** Validates the thresholds and size. */
  public ExternalizationPolicy {
    Objects.requireNonNull(blockThreshold, "blockThreshold");
    Objects.requireNonNull(quarantineThreshold, "quarantineThreshold");
    if (maxArtifactSizeBytes <= 0) {
      throw new IllegalArgumentException(
          "max_artifact_size_bytes (" + maxArtifactSizeBytes + ") must be positive");
    }
    if (quarantineThreshold.compareTo(blockThreshold) > 0) {
      throw new IllegalArgumentException(
          "quarantine_threshold ("
              + quarantineThreshold
              + ") must not be above block_threshold ("
              + blockThreshold
              + ")");
    }
  }

  /** A policy that turns the gate off: output is returned as the command wrote it. */
  public static ExternalizationPolicy disabled() {
    return new ExternalizationPolicy(
        false, 50L * 1024 * 1024, Severity.CRITICAL, Severity.HIGH, true);
  }

  /** The Rust crate's defaults. */
  public static ExternalizationPolicy defaults() {
    return new ExternalizationPolicy(
        true, 50L * 1024 * 1024, Severity.CRITICAL, Severity.HIGH, true);
  }
}
