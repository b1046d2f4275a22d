package dev.kavach.scoring;

/**
 * How strongly a sandbox is isolated, from 0 to 100.
 *
 * @param value the score, clamped to 0..100
 */
public record StrengthScore(int value) implements Comparable<StrengthScore> {

  /** Clamps the value to 0..100. */
  public StrengthScore {
    value = Math.max(0, Math.min(100, value));
  }

  /**
   * The band of the score: {@code minimal} (0-29), {@code basic} (30-49), {@code standard} (50-69),
   * {@code hardened} (70-84), {@code fortress} (85-100).
   */
  public String label() {
    if (value < 30) {
      return "minimal";
    }
    if (value < 50) {
      return "basic";
    }
    if (value < 70) {
      return "standard";
    }
    if (value < 85) {
      return "hardened";
    }
    return "fortress";
  }

  @Override
  public int compareTo(StrengthScore o) {
    return Integer.compare(value, o.value);
  }

  /** As the Rust crate displays it: {@code 65 (standard)}. */
  @Override
  public String toString() {
    return value + " (" + label() + ")";
  }
}
