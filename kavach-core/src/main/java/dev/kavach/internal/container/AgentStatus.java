package dev.kavach.internal.container;

import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * What {@code kavach-agent-oci exec} wrote to its status file: its pid inside the container,
 * whether it could keep the command's orphans (subreaper) and stop the command from signalling it
 * (Landlock scope), and how the command ended.
 *
 * @param pid the agent's pid inside the container, -1 until reported
 * @param subreaper whether the agent is a child subreaper
 * @param scoped whether the command runs in a Landlock domain scoped for signals
 * @param exitCode the command's exit status, if it exited
 * @param signal the signal that killed the command, if one did
 * @param errorStep the step that failed before the command could run, or null
 * @param errorErrno the errno of that failure
 * @param errorMessage the agent's description of that failure
 */
public record AgentStatus(
    int pid,
    boolean subreaper,
    boolean scoped,
    OptionalInt exitCode,
    OptionalInt signal,
    @Nullable String errorStep,
    int errorErrno,
    @Nullable String errorMessage) {

  /** Whether the agent reported how the command ended (exit, signal or an error). */
  public boolean finished() {
    return exitCode.isPresent() || signal.isPresent() || errorStep != null;
  }

  /** Whether the command could not be executed at all (not found, not executable). */
  public boolean execFailed() {
    return "exec".equals(errorStep);
  }

  /**
   * Parses the status file; a file the agent never finished parses with {@link #finished} false.
   */
  public static AgentStatus parse(String text) {
    int pid = -1;
    boolean subreaper = false;
    boolean scoped = false;
    OptionalInt exit = OptionalInt.empty();
    OptionalInt signal = OptionalInt.empty();
    String step = null;
    int errno = 0;
    String message = null;
    for (String line : text.split("\n")) {
      String[] f = line.split(" ", 4);
      if (f.length < 2) {
        continue;
      }
      switch (f[0]) {
        case "pid" -> pid = parseInt(f[1]);
        case "subreaper" -> subreaper = f[1].equals("1");
        case "scope" -> scoped = f[1].equals("1");
        case "exit" -> exit = OptionalInt.of(parseInt(f[1]));
        case "signal" -> signal = OptionalInt.of(parseInt(f[1]));
        case "error" -> {
          if (step == null) { // the first failure is the cause
            step = f[1];
            errno = f.length > 2 ? parseInt(f[2]) : 0;
            message = f.length > 3 ? f[3] : "";
          }
        }
        default -> {
          // "killed N" and lines of later versions carry nothing Java needs.
        }
      }
    }
    return new AgentStatus(pid, subreaper, scoped, exit, signal, step, errno, message);
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
