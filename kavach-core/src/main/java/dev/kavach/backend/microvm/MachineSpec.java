package dev.kavach.backend.microvm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.policy.SandboxPolicy;

/**
 * The VM's size, from the policy: {@code vcpus = max(1, ceil(cpu_limit))} (as in the Rust crate)
 * and guest memory = {@code memory_limit_mb}. A fractional CPU limit needs a CPU quota on the VMM
 * as well (the jailer's cgroup); whole vCPUs alone would give the command more than it asked for.
 *
 * @param vcpus virtual CPUs
 * @param memMib guest memory in MiB; the command can never use more
 * @param cpuQuota the exact CPU limit in cores when it is fractional, 0 otherwise
 */
record MachineSpec(int vcpus, int memMib, double cpuQuota) {
  /** Guest memory when the policy sets none. */
  static final int DEFAULT_MEM_MIB = 256;

  /** Below this a Linux guest with the agent does not boot reliably. */
  static final int MIN_MEM_MIB = 64;

  /** Firecracker's vCPU maximum. */
  static final int MAX_VCPUS = 32;

  static MachineSpec from(SandboxPolicy policy) {
    Double cpu = policy.cpuLimit();
    int vcpus = cpu == null ? 1 : (int) Math.max(1, Math.ceil(cpu));
    if (vcpus > MAX_VCPUS) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "cpu_limit (" + cpu + ") needs " + vcpus + " vCPUs; Firecracker allows " + MAX_VCPUS);
    }
    Long mem = policy.memoryLimitMb();
    long mib = mem == null ? DEFAULT_MEM_MIB : mem;
    if (mib < MIN_MEM_MIB || mib > Integer.MAX_VALUE) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "memory_limit_mb (" + mib + ") must be at least " + MIN_MEM_MIB + " for a microVM guest");
    }
    double quota = cpu != null && cpu != Math.floor(cpu) ? cpu : 0;
    return new MachineSpec(vcpus, (int) mib, quota);
  }
}
