package dev.kavach.internal.guest;

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
public record GuestMachine(int vcpus, int memMib, double cpuQuota) {

  /**
   * The VM size for a policy.
   *
   * @param defaultMib guest memory when the policy sets none
   * @param minMib below this the guest does not boot reliably
   * @param maxVcpus the VMM's vCPU maximum
   * @param vmm the VMM's name, for messages
   * @throws KavachException with {@link Reason#POLICY_INVALID} naming the field
   */
  public static GuestMachine from(
      SandboxPolicy policy, int defaultMib, int minMib, int maxVcpus, String vmm) {
    Double cpu = policy.cpuLimit();
    int vcpus = cpu == null ? 1 : (int) Math.max(1, Math.ceil(cpu));
    if (vcpus > maxVcpus) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "cpu_limit (" + cpu + ") needs " + vcpus + " vCPUs; " + vmm + " allows " + maxVcpus);
    }
    Long mem = policy.memoryLimitMb();
    long mib = mem == null ? defaultMib : mem;
    if (mib < minMib || mib > Integer.MAX_VALUE) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "memory_limit_mb (" + mib + ") must be at least " + minMib + " for a " + vmm + " guest");
    }
    double quota = cpu != null && cpu != Math.floor(cpu) ? cpu : 0;
    return new GuestMachine(vcpus, (int) mib, quota);
  }
}
