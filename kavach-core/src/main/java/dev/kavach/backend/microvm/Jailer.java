package dev.kavach.backend.microvm;

import dev.kavach.internal.guest.GuestMachine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Firecracker's jailer for one VM: it chroots the VMM into {@code <base>/<exec name>/<id>/root},
 * drops to an unprivileged uid/gid, and puts it in a cgroup. Every path the VMM is given (config,
 * kernel, drives, sockets) must therefore be a path <i>inside</i> that root, with the file
 * hard-linked or copied there and owned by the jail's uid. The Rust crate passed host paths and
 * kept uid 0; this is the fix.
 *
 * @param jailer the jailer binary
 * @param firecracker the firecracker binary
 * @param id the VM id (the sandbox id: letters, digits and '-', at most 64)
 * @param uid unprivileged uid of the VMM
 * @param gid unprivileged gid of the VMM
 * @param chrootBase directory under which the jail is created
 * @param cgroupVersion 1 or 2, whichever hierarchy has the memory controller
 * @param machine the VM size, for the VMM's cgroup limits
 */
record Jailer(
    Path jailer,
    Path firecracker,
    String id,
    int uid,
    int gid,
    Path chrootBase,
    int cgroupVersion,
    GuestMachine machine) {

  /** Parent cgroup of every jail, so leak checks find {@code kavach/<sandbox-id>}. */
  static final String PARENT_CGROUP = "kavach";

  /** Memory the VMM itself may use on top of guest memory, before its cgroup kills it. */
  static final int VMM_OVERHEAD_MIB = 64;

  private static final long CPU_PERIOD_US = 100_000;

  Jailer {
    if (!id.matches("[A-Za-z0-9-]{1,64}")) {
      throw new IllegalArgumentException("jailer id (" + id + ") must be 1-64 of [A-Za-z0-9-]");
    }
    if (uid == 0 || gid == 0) {
      throw new IllegalArgumentException("the jailed VMM must not run as uid or gid 0");
    }
    if (cgroupVersion != 1 && cgroupVersion != 2) {
      throw new IllegalArgumentException("cgroup version must be 1 or 2");
    }
  }

  /** The jail's root on the host: {@code <base>/firecracker/<id>/root}. */
  Path root() {
    return chrootBase.resolve(firecracker.getFileName().toString()).resolve(id).resolve("root");
  }

  /** The jail's directory (removed at destroy): {@code <base>/firecracker/<id>}. */
  Path jailDir() {
    return root().getParent();
  }

  /** A file inside the jail as the host sees it. */
  Path hostPath(String insideJail) {
    return root().resolve(insideJail.startsWith("/") ? insideJail.substring(1) : insideJail);
  }

  /** The jailer's command line; the VMM's own arguments follow {@code --}. */
  List<String> argv(String configInside, String apiSocketInside) {
    List<String> a = new ArrayList<>();
    a.add(jailer.toString());
    a.add("--id");
    a.add(id);
    a.add("--exec-file");
    a.add(firecracker.toString());
    a.add("--uid");
    a.add(Integer.toString(uid));
    a.add("--gid");
    a.add(Integer.toString(gid));
    a.add("--chroot-base-dir");
    a.add(chrootBase.toString());
    a.add("--cgroup-version");
    a.add(Integer.toString(cgroupVersion));
    a.add("--parent-cgroup");
    a.add(PARENT_CGROUP);
    long memBytes = (long) (machine.memMib() + VMM_OVERHEAD_MIB) << 20;
    a.add("--cgroup");
    a.add((cgroupVersion == 2 ? "memory.max=" : "memory.limit_in_bytes=") + memBytes);
    if (machine.cpuQuota() > 0) {
      long quota = Math.round(machine.cpuQuota() * CPU_PERIOD_US);
      if (cgroupVersion == 2) {
        a.add("--cgroup");
        a.add("cpu.max=" + quota + " " + CPU_PERIOD_US);
      } else {
        a.add("--cgroup");
        a.add("cpu.cfs_period_us=" + CPU_PERIOD_US);
        a.add("--cgroup");
        a.add("cpu.cfs_quota_us=" + quota);
      }
    }
    a.add("--");
    a.add("--config-file");
    a.add(configInside);
    a.add("--api-sock");
    a.add(apiSocketInside);
    a.add("--level");
    a.add("Warning");
    return a;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "Jailer[%s uid=%d gid=%d root=%s]", id, uid, gid, root());
  }
}
