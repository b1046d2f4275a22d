package dev.kavach;

import java.time.Duration;
import java.util.Objects;

/**
 * Resources one exec used, measured by the backend (for example from its cgroup).
 *
 * @param cpuTime user plus system CPU time
 * @param memoryPeakBytes peak memory, or -1 when not measured
 * @param pidsPeak peak number of processes, or -1 when not measured
 */
public record ResourceUsage(Duration cpuTime, long memoryPeakBytes, long pidsPeak) {

  /** Validates the CPU time. */
  public ResourceUsage {
    Objects.requireNonNull(cpuTime, "cpuTime");
  }
}
