package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.backend.process.cgroup.CgroupLimits;
import dev.kavach.backend.process.cgroup.ExecCgroup;
import dev.kavach.backend.process.cgroup.SandboxCgroup;
import dev.kavach.internal.host.HostProbe;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * What cgroups this JVM can use, found by creating (and removing) a real sandbox group with every
 * limit, the way a sandbox would: without root or a delegated subtree the creation fails, and the
 * reason is the kernel's.
 *
 * @param limits whether memory, CPU and pids limits can be set
 * @param pause whether the group can be frozen
 * @param usage whether per-exec CPU time can be read
 * @param reason why limits are unavailable, or empty
 */
record CgroupSupport(boolean limits, boolean pause, boolean usage, String reason) {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Nothing: no cgroup can be created. */
  static CgroupSupport none(String reason) {
    return new CgroupSupport(false, false, false, reason);
  }

  /** Probes the host by creating a throw-away group {@code kavach/kavach-probe-<random>}. */
  static CgroupSupport probe(HostProbe host) {
    String id = "kavach-probe-" + HexFormat.of().formatHex(randomBytes());
    String limitsReason = "";
    boolean limits = true;
    SandboxCgroup cg;
    try {
      cg = SandboxCgroup.create(id, new CgroupLimits(64L << 20, 0.5, 64), false, host);
    } catch (KavachException e) {
      limits = false;
      limitsReason = String.valueOf(e.getMessage());
      try {
        cg = SandboxCgroup.create(id, CgroupLimits.none(), false, host);
      } catch (KavachException again) {
        return none(limitsReason);
      }
    }
    try {
      ExecCgroup exec = cg.newExec(id + "-0");
      boolean usage = exec.usage().isPresent();
      exec.destroy();
      return new CgroupSupport(limits, cg.canFreeze(), usage, limitsReason);
    } catch (KavachException e) {
      return new CgroupSupport(false, false, false, String.valueOf(e.getMessage()));
    } finally {
      cg.destroy();
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[6];
    RANDOM.nextBytes(b);
    return b;
  }
}
