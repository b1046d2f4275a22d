package dev.kavach.backend.process;

import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.policy.SandboxPolicy;
import java.time.Duration;
import java.util.List;

/**
 * A JVM that owns a sandbox running {@code sleep <marker>}, for the test that kills such a JVM with
 * SIGKILL and checks that nothing of the sandbox survives. Starts the sandbox from a short-lived
 * thread on purpose: the launcher must not depend on that thread staying alive.
 */
public final class SandboxHolder {
  private SandboxHolder() {}

  /** Runs the sandbox until killed. */
  public static void main(String[] args) throws Exception {
    Sandbox s =
        Sandbox.create(
            SandboxConfig.builder()
                .policy(SandboxPolicy.minimal())
                .timeout(Duration.ofMinutes(10))
                .build());
    s.start();
    System.out.println("sandbox=" + s.id() + " workspace=" + s.workspace().orElseThrow());
    System.out.flush();
    Thread t = new Thread(() -> s.exec(List.of("sleep", args[0])));
    t.start();
    t.join();
  }
}
