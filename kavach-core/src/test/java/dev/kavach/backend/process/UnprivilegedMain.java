package dev.kavach.backend.process;

import dev.kavach.ExecResult;
import dev.kavach.KavachException;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.policy.SandboxPolicy;
import java.util.List;

/**
 * Run by {@link ProcessUnprivilegedTest} as a freshly created non-root user: opens a sandbox with
 * the policy named by the first argument and prints what happened, one {@code key=value} per line.
 */
public final class UnprivilegedMain {
  private UnprivilegedMain() {}

  /**
   * Runs one sandbox with preset {@code args[0]} (plus a 64 MiB limit if {@code args[1]} is
   * "limit").
   */
  public static void main(String[] args) {
    SandboxPolicy policy = SandboxPolicy.preset(args[0]);
    if (args.length > 1 && args[1].equals("limit")) {
      policy = policy.toBuilder().memoryLimitMb(64).build();
    }
    try (Sandbox s = Sandbox.create(SandboxConfig.builder().policy(policy).build())) {
      s.start();
      ExecResult r =
          s.exec(
              List.of(
                  "/bin/sh",
                  "-c",
                  "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status;"
                      + " touch /workspace/made && echo workspace-ok; touch /usr/x 2>&1;"
                      + " cat /proc/self/uid_map"));
      System.out.println("exit=" + r.exitCode());
      System.out.println("namespaces=" + r.enforcement().sortedNamespaces());
      System.out.println("landlock=" + r.enforcement().landlockAbi());
      System.out.println("seccomp=" + r.enforcement().seccompProfile());
      System.out.println("uid=" + r.enforcement().uid());
      System.out.println("notes=" + r.enforcement().notes());
      System.out.print(r.stdoutText());
    } catch (KavachException e) {
      System.out.println("failed=" + e.reason() + ": " + e.getMessage());
    }
  }
}
