package dev.kavach.scanning;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The externalization gate's decision on one exec's output.
 *
 * @param verdict what happened to the output
 * @param findings every match, not just the first per pattern
 * @param worst the worst severity found ({@link Severity#INFO} when none)
 * @param quarantineId where a quarantined output is stored, or null
 */
public record ScanReport(
    Verdict verdict, List<Finding> findings, Severity worst, @Nullable String quarantineId) {

  /** Copies the findings. */
  public ScanReport {
    findings = List.copyOf(findings);
  }
}
