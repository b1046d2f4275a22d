package dev.kavach.backend.process.cgroup;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The host's cgroups for the tests that create real groups, and a stand-in for the launcher: a
 * shell that joins the exec's groups first ({@code echo 0 > cgroup.procs}, what the launcher does
 * in C) and only then runs the payload, so the payload never runs outside the group.
 */
final class CgroupHost {
  static final HostProbe HOST = HostProbe.system();

  private CgroupHost() {}

  /** Skips (or fails under CI, which runs as root on a host with cgroups) without cgroupfs. */
  static void assumeRootWithCgroups() {
    boolean root = HOST.uid() == 0;
    boolean cgroups = HOST.cgroups().hasLimitControllers();
    if ("true".equals(System.getenv("CI")) && root && !cgroups) {
      fail(
          "CI runs as root and must have cgroup memory, pids and cpu controllers: "
              + HOST.cgroups());
    }
    assumeTrue(root, "creating cgroups needs root (or a delegated cgroup); uid is " + HOST.uid());
    assumeTrue(cgroups, "no cgroup memory, pids and cpu controllers here: " + HOST.cgroups());
  }

  /**
   * The layouts to run against on this host: the host's own and, on a hybrid host, the same without
   * its v2 mount, which exercises the pure-v1 code paths (freezer kill, cpuacct) for real.
   */
  static Stream<Arguments> layouts() {
    CgroupLayout real = HOST.cgroups();
    if (real.v2Mount() != null && !real.v1().isEmpty()) {
      return Stream.of(
          Arguments.of("host " + real.mode(), real),
          Arguments.of("host v1 only", new CgroupLayout(real.v1(), null, Set.of())));
    }
    return Stream.of(Arguments.of("host " + real.mode(), real));
  }

  static Map<String, String> own() {
    return HOST.ownCgroups();
  }

  /** A fresh id with a prefix the leftover checks can look for. */
  static String newId() {
    byte[] b = new byte[5];
    ThreadLocalRandom.current().nextBytes(b);
    return "kv-cgtest-" + HexFormat.of().formatHex(b);
  }

  /** Runs {@code payload} with {@code sh} after joining the exec's groups by writing "0". */
  static Exec.Running start(ExecCgroup exec, String payload) {
    return start(List.of("/bin/sh"), exec, "0", payload);
  }

  /**
   * Runs {@code payload} with {@code shell} after joining the exec's groups by writing {@code who}
   * ({@code "0"} or {@code "$$"}) into each {@code cgroup.procs}; exits 125 if a write fails.
   */
  static Exec.Running start(List<String> shell, ExecCgroup exec, String who, String payload) {
    StringBuilder script = new StringBuilder();
    for (Path f : exec.procsFiles()) {
      script.append("echo ").append(who).append(" > ").append(f).append(" || exit 125; ");
    }
    script.append(payload);
    return Exec.start(
        Exec.command(Stream.concat(shell.stream(), Stream.of("-c", script.toString())).toList())
            .timeout(Duration.ofSeconds(30))
            .build());
  }

  /** Waits until the process has joined the exec's groups (it is listed in each of them). */
  static void awaitJoined(ExecCgroup exec, Exec.Running running) {
    long pid = running.process().pid();
    boolean joined =
        CgroupIo.await(
            () -> inEvery(exec, pid) || !running.process().isAlive(),
            Duration.ofSeconds(10),
            "the payload to join");
    if (!joined || !running.process().isAlive()) {
      fail("payload did not join " + exec + ": " + running.await().stderrText());
    }
  }

  /** A process's own user plus system CPU time, from {@code /proc/<pid>/stat}. */
  static Duration processCpuTime(long pid) {
    String stat = CgroupIo.readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
    if (stat == null) {
      fail("process " + pid + " is gone");
    }
    // Fields after the ")" that ends the name: state is field 3, utime 14 and stime 15.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return Duration.ofMillis(ticks * 10); // USER_HZ is 100 on Linux
  }

  /** Whether a process is gone or a zombie (dead, only waiting for its parent to reap it). */
  static boolean dead(long pid) {
    String stat = CgroupIo.readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
    if (stat == null) {
      return true;
    }
    // The state follows the command name in parentheses, which may itself contain ") ".
    String afterName = stat.substring(stat.lastIndexOf(')') + 1).trim();
    return afterName.startsWith("Z") || afterName.startsWith("X");
  }

  private static boolean inEvery(ExecCgroup exec, long pid) {
    for (Path f : exec.procsFiles()) {
      String procs = CgroupIo.readOrNull(f);
      if (procs == null || !CgroupFiles.pids(procs).contains(pid)) {
        return false;
      }
    }
    return true;
  }
}
