package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.process.cgroup.CgroupPlan.Hierarchy;
import dev.kavach.backend.process.cgroup.CgroupPlan.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One logical cgroup (a sandbox's or an exec's): one directory per hierarchy, with the operations
 * that act on all of them and on their descendants. {@link SandboxCgroup} and {@link ExecCgroup}
 * share this code; they differ only in which directories they hold.
 */
final class Group {
  /** How long a freeze may take before it is undone and reported. */
  static final Duration FREEZE_TIMEOUT = Duration.ofSeconds(5);

  /** How long killing may take before it is reported (a process stuck in the kernel). */
  static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);

  // One round of the signal path: freeze, SIGKILL every pid, thaw, then this long for them to go.
  private static final Duration ROUND_WAIT = Duration.ofMillis(200);

  private final String label;
  private final Map<Hierarchy, Path> dirs;

  /**
   * @param label how messages name the group ("sandbox kv-1a2b")
   * @param dirs the group's directory in each hierarchy, in joining order
   */
  Group(String label, Map<Hierarchy, Path> dirs) {
    this.label = label;
    this.dirs = new LinkedHashMap<>(dirs);
  }

  Map<Hierarchy, Path> dirs() {
    return dirs;
  }

  /** The directory of the hierarchy with a role, or null. */
  @Nullable Path dir(Role role) {
    for (Map.Entry<Hierarchy, Path> e : dirs.entrySet()) {
      if (e.getKey().has(role)) {
        return e.getValue();
      }
    }
    return null;
  }

  /** The {@code cgroup.procs} file of each hierarchy, in joining order. */
  List<Path> procsFiles() {
    return dirs.values().stream().map(d -> d.resolve(CgroupFiles.PROCS)).toList();
  }

  /**
   * Every process in the group or below it, in any hierarchy (a launcher stopped half-way through
   * joining is in some hierarchies only).
   */
  List<Long> pids() {
    Set<Long> out = new LinkedHashSet<>();
    for (Path d : dirs.values()) {
      try {
        for (Path sub : CgroupIo.subtreeDeepestFirst(d)) {
          String procs = CgroupIo.readOrNull(sub.resolve(CgroupFiles.PROCS));
          if (procs != null) {
            out.addAll(CgroupFiles.pids(procs));
          }
        }
      } catch (IOException e) {
        // The group is being removed; what is left is read on the next call.
      }
    }
    return List.copyOf(out);
  }

  boolean empty() {
    return pids().isEmpty();
  }

  /** Whether the group can be frozen. */
  boolean canFreeze() {
    return dir(Role.FREEZE) != null;
  }

  /**
   * Freezes every process of the group and waits until the kernel says the whole subtree is frozen.
   * A freeze that does not complete is undone, so a failed pause never leaves the group
   * half-frozen.
   */
  void freeze() {
    Path d = dir(Role.FREEZE);
    if (d == null) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE,
          "cannot pause "
              + label
              + ": no cgroup.freeze in cgroup v2 and no v1 freezer hierarchy on this host");
    }
    boolean v2 = isV2(d);
    try {
      requestFreeze(d, v2);
    } catch (IOException e) {
      throw new KavachException(
          Reason.IO, "cannot freeze " + label + " (" + d + "): " + CgroupIo.reason(e), e);
    }
    boolean done = CgroupIo.await(() -> isFrozen(d, v2), FREEZE_TIMEOUT, "the freeze of " + label);
    if (!done) {
      thaw();
      throw new KavachException(
          Reason.IO,
          "freezing " + label + " (" + d + ") did not complete within " + FREEZE_TIMEOUT);
    }
  }

  /** Thaws every process of the group. Does nothing when it cannot be frozen or is gone. */
  void thaw() {
    Path d = dir(Role.FREEZE);
    if (d == null || !Files.isDirectory(d)) {
      return;
    }
    try {
      if (isV2(d)) {
        CgroupIo.write(d.resolve(CgroupFiles.V2_FREEZE), "0");
      } else {
        CgroupIo.write(d.resolve(CgroupFiles.V1_FREEZER_STATE), "THAWED");
      }
    } catch (IOException e) {
      throw new KavachException(
          Reason.IO, "cannot thaw " + label + " (" + d + "): " + CgroupIo.reason(e), e);
    }
  }

  /**
   * Kills every process of the group and its descendants and waits until none is left.
   *
   * <p>With v2 {@code cgroup.kill} the kernel kills the whole subtree in one step, and a fork
   * racing with it is killed too, so nothing escapes. Without it: freeze (so no process can fork or
   * exit while the pids are read), SIGKILL every pid, thaw (v1 frozen tasks die only once thawed),
   * repeat until empty. Without any freezer, the same loop runs unfrozen; it still converges
   * because every child is born inside the cgroup, and the pids limit bounds the race. Pids are
   * signalled through {@link ProcessHandle}, which checks the start time, so a pid reused by an
   * unrelated process is not killed.
   */
  void kill() {
    Path killDir = dir(Role.KILL);
    if (killDir != null) {
      try {
        CgroupIo.write(killDir.resolve(CgroupFiles.V2_KILL), "1");
        if (CgroupIo.await(this::empty, KILL_TIMEOUT, "the kill of " + label)) {
          return;
        }
      } catch (IOException e) {
        // Fall through to the signal path, which reports if it fails too.
      }
    }
    long deadline = System.nanoTime() + KILL_TIMEOUT.toNanos();
    while (true) {
      List<Long> pids = pids();
      if (pids.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new KavachException(
            Reason.IO,
            "processes " + pids + " of " + label + " survived SIGKILL for " + KILL_TIMEOUT);
      }
      signalRound();
      CgroupIo.await(this::empty, ROUND_WAIT, "the kill of " + label);
    }
  }

  private void signalRound() {
    Path d = dir(Role.FREEZE);
    if (d != null) {
      boolean v2 = isV2(d);
      try {
        requestFreeze(d, v2);
        // If it does not settle in time, signal anyway; the caller's loop repeats until empty.
        CgroupIo.await(() -> isFrozen(d, v2), ROUND_WAIT, "the freeze of " + label);
      } catch (IOException e) {
        // Signal unfrozen; the loop repeats until the group is empty.
      }
    }
    long self = ProcessHandle.current().pid();
    for (long pid : pids()) {
      if (pid != self) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    if (d != null) {
      thaw();
    }
  }

  /**
   * Kills what is left, then removes every directory of the group, descendants first, in every
   * hierarchy. Idempotent: directories already gone are skipped.
   *
   * @throws KavachException with {@link Reason#IO} naming each directory that could not be removed
   */
  void remove() {
    // The usual case, an exec that has ended: rmdir alone. The kernel refuses (EBUSY) to remove a
    // group that still has a process or a child group, so success proves there was nothing left.
    boolean removed = true;
    for (Path d : dirs.values()) {
      try {
        CgroupIo.rmdir(d);
      } catch (IOException e) {
        removed = false;
      }
    }
    if (removed) {
      return;
    }
    List<String> errors = new ArrayList<>();
    try {
      if (!empty()) {
        kill();
      }
      thaw();
    } catch (KavachException e) {
      errors.add(e.getMessage());
    }
    for (Path d : dirs.values()) {
      try {
        for (Path sub : CgroupIo.subtreeDeepestFirst(d)) {
          rmdirWhenEmpty(sub);
        }
      } catch (IOException e) {
        errors.add("cannot remove " + d + ": " + CgroupIo.reason(e));
      }
    }
    if (!errors.isEmpty()) {
      throw new KavachException(
          Reason.IO, "cgroup of " + label + " not fully removed: " + String.join("; ", errors));
    }
  }

  // rmdir fails with EBUSY while a dying process still counts as a member; it goes within
  // milliseconds once SIGKILL is delivered, so retry until the kill timeout.
  private static void rmdirWhenEmpty(Path dir) throws IOException {
    long deadline = System.nanoTime() + KILL_TIMEOUT.toNanos();
    while (true) {
      try {
        CgroupIo.rmdir(dir);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      CgroupIo.await(() -> false, Duration.ofMillis(10), "rmdir of " + dir);
    }
  }

  private boolean isV2(Path dir) {
    for (Map.Entry<Hierarchy, Path> e : dirs.entrySet()) {
      if (e.getValue().equals(dir)) {
        return e.getKey().v2();
      }
    }
    return false;
  }

  private static void requestFreeze(Path d, boolean v2) throws IOException {
    if (v2) {
      CgroupIo.write(d.resolve(CgroupFiles.V2_FREEZE), "1");
    } else {
      CgroupIo.write(d.resolve(CgroupFiles.V1_FREEZER_STATE), "FROZEN");
    }
  }

  // v1 can stay FREEZING when a task was busy at the first attempt; writing FROZEN again retries
  // the tasks that were missed (runc does the same).
  private static boolean isFrozen(Path d, boolean v2) {
    if (v2) {
      String events = CgroupIo.readOrNull(d.resolve(CgroupFiles.V2_EVENTS));
      return events != null && CgroupFiles.frozen(events);
    }
    String state = CgroupIo.readOrNull(d.resolve(CgroupFiles.V1_FREEZER_STATE));
    if (state != null && state.trim().equals("FREEZING")) {
      try {
        CgroupIo.write(d.resolve(CgroupFiles.V1_FREEZER_STATE), "FROZEN");
      } catch (IOException e) {
        return false;
      }
    }
    return state != null && state.trim().equals("FROZEN");
  }
}
