package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.process.cgroup.CgroupLimits;
import dev.kavach.backend.process.seccomp.Arch;
import dev.kavach.backend.process.seccomp.SeccompCompiler;
import dev.kavach.backend.process.seccomp.SeccompProfile;
import dev.kavach.policy.NetworkPolicy;
import dev.kavach.policy.SandboxPolicy;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one sandbox will apply on every exec, decided once at {@code open} from the policy and what
 * the host supports. A requested control the host cannot apply stops here with {@link
 * Reason#ENFORCEMENT_FAILED}, unless the policy is best-effort: then it is left out and a note
 * naming it and the host's reason goes into every enforcement report.
 *
 * @param shareNetwork whether the command uses the host's network (network enabled, no host rules)
 * @param egress whether the command's only way out is the sandbox's egress proxy, through a relay
 *     in a loopback-only network namespace (the policy names hosts)
 * @param landlock whether Landlock is applied
 * @param ports TCP ports Landlock allows (empty: TCP not restricted by port)
 * @param cgroup whether the sandbox gets a cgroup (for limits, usage, pause and kill)
 * @param limits the cgroup limits to apply (none skipped under best effort)
 * @param seccompProfile the seccomp profile as the policy names it, or null for none
 * @param seccompProgram the profile compiled for this machine and network setting (empty: none)
 */
// Byte arrays rather than immutable copies: the program is written to a file and never changed.
@SuppressWarnings("ArrayRecordComponent")
record Plan(
    boolean shareNetwork,
    boolean egress,
    boolean landlock,
    List<Integer> ports,
    boolean cgroup,
    CgroupLimits limits,
    @Nullable String seccompProfile,
    byte[] seccompProgram) {

  /** Copies the ports. */
  Plan {
    ports = List.copyOf(ports);
  }

  /**
   * Decides the plan.
   *
   * @param notes receives a note for every control skipped under a best-effort policy
   */
  static Plan of(
      SandboxPolicy policy, HostSupport host, CgroupSupport cgroups, List<String> notes) {
    boolean bestEffort = policy.bestEffort();
    NetworkPolicy net = policy.network();
    // Host rules are enforced by the sandbox's egress proxy (dev.kavach.egress); the command gets
    // a new network namespace whose only way out is the launcher's relay to it.
    boolean egress = !net.allowedHosts().isEmpty() || !net.deniedHosts().isEmpty();
    boolean landlock = host.landlock();
    if (!landlock) {
      // Not a policy field of its own: the read-only view is enforced by mounts. Say so.
      notes.add("landlock: not applied (" + host.landlockReason() + ")");
    }
    List<Integer> ports = net.allowedPorts();
    if (egress) {
      // The proxy checks every destination port; Landlock port rules would only restrict the
      // sandbox's own loopback (and the relay's port) further.
      ports = List.of();
    } else if (!ports.isEmpty() && !host.landlockPorts()) {
      skip(
          bestEffort,
          notes,
          "network.allowed_ports",
          "TCP port rules need Landlock ABI 4, this host has "
              + (host.landlock() ? "ABI " + host.landlockAbi() : "no Landlock"));
      ports = List.of();
    }
    String seccompName = null;
    byte[] program = new byte[0];
    String profile = policy.seccompProfile();
    if (profile != null) {
      if (host.seccomp()) {
        // Compiled once per sandbox; an unknown profile or an unusable file fails here.
        program =
            SeccompCompiler.compile(SeccompProfile.resolve(profile), Arch.host(), !net.enabled())
                .bytes();
        seccompName = profile;
      } else {
        skip(
            bestEffort,
            notes,
            "seccomp_profile " + profile,
            "seccomp filters are unavailable: " + host.seccompReason());
      }
    }
    CgroupLimits limits = CgroupLimits.of(policy);
    if (!limits.isEmpty() && !cgroups.limits()) {
      String why = "cgroup limits are unavailable: " + cgroups.reason();
      if (policy.memoryLimitMb() != null) {
        skip(bestEffort, notes, "memory_limit_mb", why);
      }
      if (policy.cpuLimit() != null) {
        skip(bestEffort, notes, "cpu_limit", why);
      }
      if (policy.maxPids() != null) {
        skip(bestEffort, notes, "max_pids", why);
      }
      limits = CgroupLimits.none();
    }
    // Even without limits a cgroup gives per-exec usage, pause and a kill that nothing escapes.
    boolean cgroup = cgroups.limits() || cgroups.pause() || cgroups.usage();
    return new Plan(
        net.enabled() && !egress, egress, landlock, ports, cgroup, limits, seccompName, program);
  }

  private static void skip(boolean bestEffort, List<String> notes, String control, String why) {
    if (!bestEffort) {
      throw new KavachException(Reason.ENFORCEMENT_FAILED, control + ": " + why);
    }
    notes.add(control + ": not applied (" + why + ")");
  }
}
