package dev.kavach.backend.process.cgroup;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM that owns a set of sandbox groups, named in the directory between {@code kavach/} and the
 * sandboxes' groups: {@code kavach/jvm-<pid namespace>-<pid>-<start time>/<sandbox-id>}. A JVM
 * killed with SIGKILL cannot remove its groups; the next JVM that creates a sandbox finds them
 * under a dead owner and removes them ({@link SandboxCgroup#create}). The start time (clock ticks
 * after boot, {@code /proc/<pid>/stat} field 22) tells a reused pid from the owner, and the pid
 * namespace keeps a JVM from judging pids it cannot see.
 *
 * @param pidNamespace inode of the owner's pid namespace ({@code /proc/self/ns/pid})
 * @param pid the owner's pid in that namespace
 * @param startTicks the owner's start time in clock ticks after boot
 */
record Owner(long pidNamespace, long pid, long startTicks) {
  private static final Pattern NAME = Pattern.compile("jvm-([0-9]+)-([0-9]+)-([0-9]+)");
  private static final Pattern NS_LINK = Pattern.compile("pid:\\[([0-9]+)\\]");

  /** This JVM. */
  static Owner current() {
    long pid = ProcessHandle.current().pid();
    return new Owner(pidNamespace(readLink(Path.of("/proc/self/ns/pid"))), pid, startTicks(pid));
  }

  /** The owner named by a directory, if the name is one. */
  static Optional<Owner> parse(String dirName) {
    Matcher m = NAME.matcher(dirName);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new Owner(
              Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))));
    } catch (NumberFormatException e) {
      return Optional.empty(); // Digits beyond a long: not a name kavach wrote.
    }
  }

  /** The directory name. */
  String dirName() {
    return "jvm-" + pidNamespace + "-" + pid + "-" + startTicks;
  }

  /**
   * Whether this owner is certainly gone, judged by {@code self}: same pid namespace, and its pid
   * is free or now belongs to a process started at another time. An owner in another namespace is
   * never judged gone.
   */
  boolean goneFor(Owner self) {
    return pidNamespace == self.pidNamespace && pidNamespace != 0 && startTicks(pid) != startTicks;
  }

  /** The start time of a process in clock ticks after boot, or -1 when there is none. */
  static long startTicks(long pid) {
    String stat = CgroupIo.readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
    return stat == null ? -1 : startTicks(stat);
  }

  /** Field 22 of {@code /proc/<pid>/stat}; the name (field 2) may hold spaces and parentheses. */
  static long startTicks(String procPidStat) {
    String[] f = procPidStat.substring(procPidStat.lastIndexOf(')') + 2).trim().split(" ");
    // f[0] is field 3 (state), so field 22 is f[19].
    return f.length > 19 ? Long.parseLong(f[19]) : -1;
  }

  /** The inode in a {@code pid:[4026531836]} link, or 0 when unknown. */
  static long pidNamespace(String link) {
    Matcher m = NS_LINK.matcher(link.trim());
    return m.matches() ? Long.parseLong(m.group(1)) : 0;
  }

  private static String readLink(Path link) {
    try {
      return java.nio.file.Files.readSymbolicLink(link).toString();
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return "";
    }
  }
}
