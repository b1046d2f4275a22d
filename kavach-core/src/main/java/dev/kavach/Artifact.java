package dev.kavach;

import dev.kavach.scanning.ScanReport;
import java.util.Objects;
import java.util.Optional;

/**
 * A workspace file as {@link Sandbox#copyOut} released it.
 *
 * @param path the path inside the workspace, as asked for
 * @param content the content as released: unchanged, redacted, or empty when the gate withheld it
 * @param scan the gate's findings and verdict, when a gate is configured
 */
// Byte arrays rather than immutable copies: artifacts reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record Artifact(String path, byte[] content, Optional<ScanReport> scan) {

  /** Validates. */
  public Artifact {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(scan, "scan");
  }

  /** A copy of the content. */
  @Override
  public byte[] content() {
    return content.clone();
  }

  /** Shows the size and verdict, never the content. */
  @Override
  public String toString() {
    return "Artifact["
        + path
        + ", "
        + content.length
        + " bytes"
        + scan.map(s -> ", " + s.verdict()).orElse("")
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
