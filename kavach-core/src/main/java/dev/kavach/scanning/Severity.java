package dev.kavach.scanning;

import java.util.Locale;

/** How bad a finding is, ordered from {@link #INFO} to {@link #CRITICAL}. */
public enum Severity {
  /** Informational. */
  INFO,
  /** Low. */
  LOW,
  /** Medium. */
  MEDIUM,
  /** High. */
  HIGH,
  /** Critical. */
  CRITICAL;

  /** Lower-case name. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
