package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.internal.host.HostProbe;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Run by {@link NoDelegationTest} as an unprivileged user: asks for a memory limit and prints how
 * {@link SandboxCgroup#create} answered. Prints {@code CREATED} if it (wrongly) succeeded.
 */
public final class NoDelegationMain {
  private NoDelegationMain() {}

  /** Tries to create a sandbox cgroup with the id given as the only argument. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try {
      SandboxCgroup cg =
          SandboxCgroup.create(
              args[0], new CgroupLimits(64L << 20, 0, 0), false, HostProbe.system());
      out.println("CREATED " + cg.directories());
      cg.destroy();
    } catch (KavachException e) {
      out.println(e.reason() + ": " + e.getMessage());
    }
    // Without limits nothing is required: it is created, joined to no hierarchy, with notes.
    SandboxCgroup none =
        SandboxCgroup.create(args[0], CgroupLimits.none(), false, HostProbe.system());
    out.println("NO LIMITS " + none.directories() + " " + none.canFreeze());
    none.notes().forEach(n -> out.println("NOTE " + n));
    none.destroy();
  }
}
