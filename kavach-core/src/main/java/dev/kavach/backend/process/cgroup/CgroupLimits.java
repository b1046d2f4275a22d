package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.SandboxPolicy;

/**
 * Resource limits of one sandbox's cgroup. Zero means "no limit" in every field, both for a request
 * and for the limits read back from the kernel.
 *
 * @param memoryBytes memory limit in bytes; swap is never allowed beyond it
 * @param cpuCores CPU quota in cores (0.25 is a quarter of one core), over a 100 ms period
 * @param pids maximum number of processes and threads
 */
public record CgroupLimits(long memoryBytes, double cpuCores, int pids) {
  /** The CFS period kavach uses: 100 ms, the kernel's default. */
  public static final long CPU_PERIOD_MICROS = 100_000;

  /** The smallest quota the kernel accepts (1 ms), so the smallest CPU limit is 0.01 core. */
  static final long MIN_CPU_QUOTA_MICROS = 1_000;

  // The kernel's bound on a CFS quota: (1 << 44) - 1 microseconds (kernel/sched/core.c).
  static final long MAX_CPU_QUOTA_MICROS = (1L << 44) - 1;

  private static final long MIB = 1024L * 1024;

  /** Validates the fields. */
  public CgroupLimits {
    if (memoryBytes < 0) {
      throw new IllegalArgumentException("memoryBytes (" + memoryBytes + ") must not be negative");
    }
    if (!(cpuCores >= 0) || Double.isInfinite(cpuCores)) {
      throw new IllegalArgumentException(
          "cpuCores (" + cpuCores + ") must be a finite number of cores, at least 0");
    }
    if (pids < 0) {
      throw new IllegalArgumentException("pids (" + pids + ") must not be negative");
    }
  }

  /** No limits. */
  public static CgroupLimits none() {
    return new CgroupLimits(0, 0, 0);
  }

  /** The limits a policy asks for. */
  public static CgroupLimits of(SandboxPolicy policy) {
    Long mb = policy.memoryLimitMb();
    Double cpu = policy.cpuLimit();
    Integer pids = policy.maxPids();
    return new CgroupLimits(
        mb == null ? 0 : Math.multiplyExact(mb, MIB),
        cpu == null ? 0 : cpu,
        pids == null ? 0 : pids);
  }

  /** Whether no limit is set. */
  public boolean isEmpty() {
    return memoryBytes == 0 && cpuCores == 0 && pids == 0;
  }

  /**
   * The CFS quota per {@link #CPU_PERIOD_MICROS} for {@link #cpuCores}: 0.25 core is 25000 µs.
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} when the kernel cannot express the
   *     limit (below 0.01 core, or beyond its largest quota); rounding up would grant more CPU than
   *     asked, so it is refused instead
   */
  public long cpuQuotaMicros() {
    if (cpuCores == 0) {
      throw new IllegalStateException("no CPU limit is set");
    }
    double quota = Math.rint(cpuCores * CPU_PERIOD_MICROS);
    if (quota < MIN_CPU_QUOTA_MICROS) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "cpu_limit ("
              + cpuCores
              + ") is below the smallest CPU quota the kernel accepts (0.01 core: 1 ms per 100 ms)");
    }
    if (quota > MAX_CPU_QUOTA_MICROS) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "cpu_limit (" + cpuCores + ") is beyond the largest CPU quota the kernel accepts");
    }
    return (long) quota;
  }
}
