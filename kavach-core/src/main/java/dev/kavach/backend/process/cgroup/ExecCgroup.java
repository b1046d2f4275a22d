package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.ResourceUsage;
import dev.kavach.backend.process.cgroup.CgroupPlan.Role;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The child group of one exec, {@code kavach/<owner>/<sandbox-id>/<exec-id>} in every hierarchy of
 * its sandbox. The sandbox's limits bound it (they sit on the parent); its usage, OOM kills and
 * processes are its own. Made by {@link SandboxCgroup#newExec}.
 *
 * <p>The launcher joins the group itself: its first action, as the process the JVM started and
 * before any clone or unshare, is to write {@code "0"} (meaning "the writing process") into each of
 * {@link #procsFiles}, in order, and to fail the exec if any write fails. Every process it then
 * creates is born inside the group, so no part of the command runs outside its limits.
 */
public final class ExecCgroup {
  private final SandboxCgroup sandbox;
  private final String execId;
  private final Group group;

  ExecCgroup(SandboxCgroup sandbox, String execId, Group group) {
    this.sandbox = sandbox;
    this.execId = execId;
    this.group = group;
  }

  /** The exec's id. */
  public String execId() {
    return execId;
  }

  /**
   * The {@code cgroup.procs} files the launcher writes {@code "0"} into, one per hierarchy. The
   * first is the hierarchy that can kill or freeze the group, so a launcher stopped half-way
   * through joining can still be killed through its cgroup.
   */
  public List<Path> procsFiles() {
    return group.procsFiles();
  }

  /** The exec's directory in each hierarchy, in joining order. */
  public List<Path> directories() {
    return List.copyOf(group.dirs().values());
  }

  /** The exec's processes, as host pids. */
  public List<Long> pids() {
    return group.pids();
  }

  /**
   * What the exec used so far: CPU time (v2 {@code cpu.stat} {@code usage_usec}, or v1 {@code
   * cpuacct.usage}), peak memory (v2 {@code memory.peak}, v1 {@code memory.max_usage_in_bytes}) and
   * peak pids ({@code pids.peak}); -1 for a peak the host does not measure. Read it before {@link
   * #destroy}.
   *
   * @return empty when the host has no CPU accounting the group can read
   */
  public Optional<ResourceUsage> usage() {
    Path cpuDir = group.dir(Role.CPU_ACCOUNTING);
    if (cpuDir == null) {
      return Optional.empty();
    }
    long nanos;
    try {
      nanos =
          isV2(Role.CPU_ACCOUNTING)
              ? CgroupFiles.cpuStatNanos(CgroupIo.read(cpuDir.resolve(CgroupFiles.V2_CPU_STAT)))
              : CgroupFiles.cpuacctNanos(CgroupIo.read(cpuDir.resolve(CgroupFiles.V1_CPU_USAGE)));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    if (nanos < 0) {
      return Optional.empty();
    }
    Path memDir = group.dir(Role.MEMORY_ACCOUNTING);
    long memoryPeak =
        memDir == null
            ? -1
            : number(
                memDir.resolve(
                    isV2(Role.MEMORY_ACCOUNTING)
                        ? CgroupFiles.V2_MEMORY_PEAK
                        : CgroupFiles.V1_MEMORY_PEAK));
    Path pidsDir = group.dir(Role.PIDS_ACCOUNTING);
    long pidsPeak = pidsDir == null ? -1 : number(pidsDir.resolve(CgroupFiles.PIDS_PEAK));
    // The kernel charges a fork or a page to this group before the sandbox's group refuses it, and
    // this group's peak keeps the refused charge (pids.peak read 21 under pids.max=20). What ran
    // never exceeded the sandbox's limit, so the peak is capped there.
    CgroupLimits limits = sandbox.inForce();
    return Optional.of(
        new ResourceUsage(
            Duration.ofNanos(nanos),
            cap(memoryPeak, limits.memoryBytes()),
            cap(pidsPeak, limits.pids())));
  }

  /**
   * Whether the kernel's OOM killer killed a process of this exec (v1 {@code memory.oom_control} or
   * v2 {@code memory.events}, counter {@code oom_kill}). The counter is kept in the victim's own
   * group, so a kill caused by the sandbox's limit is reported by the exec whose process died.
   * False when the host has no memory controller.
   */
  public boolean oomKilled() {
    Path memDir = group.dir(Role.MEMORY_ACCOUNTING);
    if (memDir == null) {
      return false;
    }
    String file =
        isV2(Role.MEMORY_ACCOUNTING) ? CgroupFiles.V2_MEMORY_EVENTS : CgroupFiles.V1_OOM_CONTROL;
    String text = CgroupIo.readOrNull(memDir.resolve(file));
    return text != null && CgroupFiles.oomKills(text) > 0;
  }

  /**
   * Kills every process of the exec and waits until none is left; the sandbox's other execs run on.
   * See {@link SandboxCgroup#kill} for how.
   */
  public void kill() {
    group.kill();
  }

  /**
   * Kills what is left of the exec and removes its directories. Idempotent.
   *
   * @throws KavachException with {@link Reason#IO} naming what could not be removed
   */
  public void destroy() {
    try {
      group.remove();
    } finally {
      sandbox.forget(this);
    }
  }

  @Override
  public String toString() {
    return "ExecCgroup[" + execId + " " + directories() + "]";
  }

  private boolean isV2(Role role) {
    return group.dirs().keySet().stream().anyMatch(h -> h.has(role) && h.v2());
  }

  private static long cap(long peak, long limit) {
    return peak > 0 && limit > 0 ? Math.min(peak, limit) : peak;
  }

  private static long number(Path file) {
    @Nullable String text = CgroupIo.readOrNull(file);
    if (text == null) {
      return -1;
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
