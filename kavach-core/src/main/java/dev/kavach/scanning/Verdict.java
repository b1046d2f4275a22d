package dev.kavach.scanning;

import java.util.Locale;

/** What the externalization gate decided for an output, ordered from least to most severe. */
public enum Verdict {
  /** Released unchanged. */
  PASS,
  /** Released, with findings (redacted when the policy says so). */
  WARN,
  /** Withheld and stored in quarantine until approved or rejected. */
  QUARANTINE,
  /** Withheld and never released. */
  BLOCK;

  /** Lower-case name. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
