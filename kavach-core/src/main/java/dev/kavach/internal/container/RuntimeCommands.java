package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.exec.Exec;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Runs container runtime commands (not the sandboxed ones): a fixed environment, a time limit. */
public final class RuntimeCommands {
  /** The limit on one lifecycle command (create, pause, delete ...). */
  public static final Duration TIMEOUT = Duration.ofSeconds(60);

  private RuntimeCommands() {}

  /**
   * The environment of runtime commands: a fixed PATH (podman finds conmon and runc through it) and
   * HOME. Nothing else of the JVM's environment reaches a runtime.
   */
  public static Map<String, String> environment() {
    String home = System.getenv("HOME");
    return Map.of(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME",
        home == null || home.isEmpty() ? "/" : home);
  }

  /** Runs a command and returns its result, whatever its exit status. */
  public static Exec.Result run(List<String> argv) {
    return Exec.run(
        Exec.command(argv).env(environment()).timeout(TIMEOUT).outputLimit(256 * 1024).build());
  }

  /**
   * Runs a command that must succeed.
   *
   * @throws KavachException with {@code reason}, quoting what the command printed, if it fails
   */
  public static Exec.Result check(Reason reason, String what, List<String> argv) {
    Exec.Result r = run(argv);
    if (r.exitValue() != 0 || r.timedOut()) {
      throw new KavachException(
          reason,
          what
              + " failed"
              + (r.timedOut() ? " (timed out)" : " with exit " + r.exitValue())
              + ": "
              + (r.stderrText() + " " + r.stdoutText()).trim());
    }
    return r;
  }
}
