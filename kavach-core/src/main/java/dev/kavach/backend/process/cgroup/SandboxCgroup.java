package dev.kavach.backend.process.cgroup;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.process.cgroup.CgroupPlan.Hierarchy;
import dev.kavach.backend.process.cgroup.CgroupPlan.Problem;
import dev.kavach.backend.process.cgroup.CgroupPlan.Role;
import dev.kavach.backend.process.cgroup.CgroupPlan.Write;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The cgroup of one sandbox: created at the sandbox's start with its limits, removed at destroy.
 * Each exec gets a child group ({@link #newExec}), so its CPU time, peak memory and OOM kills are
 * its own and it can be killed alone, while the limits stay on this parent group and bound all
 * execs together.
 *
 * <p>Groups nest under the JVM's own cgroup in each hierarchy, as {@code
 * <own>/kavach/jvm-<ns>-<pid>-<start>/<sandbox-id>/<exec-id>}, so limits set on the JVM's cgroup or
 * above still hold; the {@code jvm-} level names the owning JVM, so groups a killed JVM left behind
 * are found and removed by the next one ({@link Owner}). Limits use cgroup v2 where the v2
 * hierarchy has the controller and v1 where it does not; killing and freezing use v2 {@code
 * cgroup.kill}/{@code cgroup.freeze} where they exist (they do in v2 child groups even when every
 * controller is bound to v1).
 *
 * <pre>{@code
 * SandboxCgroup cg = SandboxCgroup.create(
 *     "kv-1a2b3c", CgroupLimits.of(policy), policy.bestEffort(), HostProbe.system());
 * ExecCgroup exec = cg.newExec("kv-1a2b3c-1");
 * // the launcher writes "0" into each of exec.procsFiles() before anything else, then runs
 * Optional<ResourceUsage> usage = exec.usage();
 * boolean oom = exec.oomKilled();
 * exec.destroy();
 * cg.destroy();
 * }</pre>
 *
 * <p>Thread-safe. Without root or a delegated cgroup, {@link #create} fails closed naming the
 * missing delegation.
 */
public final class SandboxCgroup {
  /** The directory under the JVM's own cgroup that holds kavach's groups. */
  public static final String KAVACH_DIR = "kavach";

  /** What a sandbox or exec id may look like: it becomes a directory name on cgroupfs. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");

  // This JVM, as named in its groups' paths (a constant: a JVM never changes pid or start time).
  private static final Owner SELF = Owner.current();

  // Another sandbox's destroy may remove an empty kavach/ between our mkdir of it and of our group.
  private static final int MKDIR_ATTEMPTS = 5;

  // v1 rounds memory limits to pages; a readback within this much above the request is the same
  // limit (64 KiB covers every page size Linux uses for memcg accounting).
  private static final long PAGE_ROUNDING = 64 * 1024;

  private final String sandboxId;
  private final Owner owner;
  private final CgroupLimits requested;
  private final CgroupLimits inForce;
  private final List<String> notes;
  private final List<Hierarchy> planned;
  private final Group group;
  private final Map<String, ExecCgroup> execs = new ConcurrentHashMap<>();
  private boolean destroyed;

  private SandboxCgroup(
      String sandboxId,
      Owner owner,
      CgroupLimits requested,
      CgroupLimits inForce,
      List<String> notes,
      List<Hierarchy> planned,
      Map<Hierarchy, Path> dirs) {
    this.sandboxId = sandboxId;
    this.owner = owner;
    this.requested = requested;
    this.inForce = inForce;
    this.notes = List.copyOf(notes);
    this.planned = List.copyOf(planned);
    this.group = new Group("sandbox " + sandboxId, dirs);
  }

  /**
   * Creates the sandbox's groups on this host, as found by {@code host}.
   *
   * @see #create(String, CgroupLimits, boolean, CgroupLayout, Map)
   */
  public static SandboxCgroup create(
      String sandboxId, CgroupLimits limits, boolean bestEffort, HostProbe host) {
    return create(sandboxId, limits, bestEffort, host.cgroups(), host.ownCgroups());
  }

  /**
   * Creates {@code kavach/<owner>/<sandboxId>} in every hierarchy the sandbox needs and applies the
   * limits. Each limit is read back from the kernel; {@link #inForce} reports what was read. First
   * removes the groups left by JVMs that died without destroying their sandboxes ({@link Owner}).
   *
   * @param sandboxId the sandbox's id (letters, digits, {@code -} and {@code _}; at most 64)
   * @param limits the limits to apply; memory also caps swap (v1 memsw, v2 {@code swap.max=0})
   * @param bestEffort whether a limit that cannot be applied is skipped (and named in {@link
   *     #notes}) instead of failing
   * @param layout where the controllers are mounted
   * @param ownCgroups the JVM's cgroup per controller ({@code ""} for v2), as parsed from {@code
   *     /proc/self/cgroup}
   * @throws KavachException with {@link Reason#ENFORCEMENT_FAILED} when a requested limit cannot be
   *     applied and {@code bestEffort} is false, naming each limit's policy field and the host's
   *     reason ({@code memory_limit_mb: cannot create /sys/fs/cgroup/memory/kavach: Permission
   *     denied (no cgroup delegation ...)}); nothing is left behind. With {@link
   *     Reason#POLICY_INVALID} for a CPU limit the kernel cannot express.
   */
  public static SandboxCgroup create(
      String sandboxId,
      CgroupLimits limits,
      boolean bestEffort,
      CgroupLayout layout,
      Map<String, String> ownCgroups) {
    checkId("sandboxId", sandboxId);
    Objects.requireNonNull(limits, "limits");
    if (limits.cpuCores() > 0) {
      // Refuses a quota the kernel cannot express before touching the host.
      limits.cpuQuotaMicros();
    }
    boolean[] v2 = v2Features(layout, ownCgroups);
    CgroupPlan plan = CgroupPlan.of(layout, ownCgroups, limits, v2[0], v2[1]);
    Owner owner = SELF;
    reapGoneOwners(plan.hierarchies(), owner);
    List<Problem> failures = new ArrayList<>(plan.unavailable());
    List<String> notes = new ArrayList<>();
    plan.notes().forEach(n -> notes.add(n.skipped()));
    Map<Hierarchy, Path> made = new LinkedHashMap<>();
    long memory = 0;
    double cpu = 0;
    int pids = 0;
    for (Hierarchy planned : plan.hierarchies()) {
      Hierarchy h = planned;
      while (!h.roles().isEmpty()) {
        try {
          Applied a = apply(h, owner, sandboxId, limits, notes);
          made.put(h, a.dir());
          memory = Math.max(memory, a.inForce().memoryBytes());
          cpu = Math.max(cpu, a.inForce().cpuCores());
          pids = Math.max(pids, a.inForce().pids());
          break;
        } catch (RoleFailure f) {
          // Retry this hierarchy without what failed, so a partly applied limit never stays.
          for (Role r : f.roles) {
            Problem p = new Problem(r.label(), f.reason);
            if (r.isLimit()) {
              failures.add(p);
            } else {
              notes.add(p.skipped());
            }
          }
          h = h.without(f.roles);
        }
      }
    }
    if (!failures.isEmpty() && !bestEffort) {
      String cleanup = "";
      try {
        new Group("sandbox " + sandboxId, made).remove();
      } catch (KavachException e) {
        cleanup = " (and cleaning up failed: " + e.getMessage() + ")";
      }
      removeKavachDirs(plan.hierarchies(), owner);
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          failures.stream().map(Problem::failure).collect(Collectors.joining("; ")) + cleanup);
    }
    failures.forEach(f -> notes.add(f.skipped()));
    return new SandboxCgroup(
        sandboxId,
        owner,
        limits,
        new CgroupLimits(memory, cpu, pids),
        notes,
        plan.hierarchies(),
        made);
  }

  /** The sandbox's id. */
  public String sandboxId() {
    return sandboxId;
  }

  /** The limits asked for. */
  public CgroupLimits requested() {
    return requested;
  }

  /**
   * The limits in force, as read back from the kernel after writing them (0 where none). With a
   * best-effort request a skipped limit reads 0 here and is named in {@link #notes}.
   */
  public CgroupLimits inForce() {
    return inForce;
  }

  /**
   * What the host could not do, each with its reason: limits skipped under best effort ({@code
   * memory_limit_mb: not applied (...)}), and pause or usage reporting that is unavailable ({@code
   * pause and resume: unavailable (...)}).
   */
  public List<String> notes() {
    return notes;
  }

  /** Adds the limits in force and the notes to an enforcement report. */
  public Enforcement.Builder reportTo(Enforcement.Builder report) {
    report.memoryLimitBytes(inForce.memoryBytes()).cpuLimit(inForce.cpuCores());
    report.pidsLimit(inForce.pids());
    notes.forEach(report::note);
    return report;
  }

  /** Whether {@link #freeze} can work on this host. */
  public boolean canFreeze() {
    return group.canFreeze();
  }

  /**
   * Creates the child group of one exec, {@code <sandbox's group>/<execId>}, in every hierarchy.
   * The launcher must join all of its {@link ExecCgroup#procsFiles} before doing anything else.
   *
   * @throws KavachException with {@link Reason#ENFORCEMENT_FAILED} if a directory cannot be created
   *     (nothing is left behind), or {@link Reason#INVALID_STATE} after {@link #destroy}
   */
  public ExecCgroup newExec(String execId) {
    checkId("execId", execId);
    synchronized (this) {
      if (destroyed) {
        throw new KavachException(
            Reason.INVALID_STATE, "cgroup of sandbox " + sandboxId + " is destroyed");
      }
      Map<Hierarchy, Path> dirs = new LinkedHashMap<>();
      for (Map.Entry<Hierarchy, Path> e : group.dirs().entrySet()) {
        Path d = e.getValue().resolve(execId);
        try {
          if (!CgroupIo.mkdirIfAbsent(d)) {
            throw new IOException("it already exists");
          }
          dirs.put(e.getKey(), d);
        } catch (IOException ex) {
          String cleanup = "";
          try {
            new Group("exec " + execId, dirs).remove();
          } catch (KavachException c) {
            cleanup = " (and cleaning up failed: " + c.getMessage() + ")";
          }
          throw new KavachException(
              Reason.ENFORCEMENT_FAILED,
              "cgroup for exec " + execId + ": cannot create " + d + ": " + reasonOf(ex) + cleanup,
              ex);
        }
      }
      ExecCgroup exec = new ExecCgroup(this, execId, new Group("exec " + execId, dirs));
      execs.put(execId, exec);
      return exec;
    }
  }

  /** The sandbox's directory in each hierarchy, in joining order. */
  public List<Path> directories() {
    return List.copyOf(group.dirs().values());
  }

  /** Every process of the sandbox (in any of its execs), as host pids. */
  public List<Long> pids() {
    return group.pids();
  }

  /**
   * Freezes every process of the sandbox and waits until the kernel reports the whole group frozen
   * (v2 {@code frozen 1} in {@code cgroup.events}, v1 {@code FROZEN}).
   *
   * @throws KavachException with {@link Reason#BACKEND_UNAVAILABLE} when the host has no freezer,
   *     or {@link Reason#IO} when the freeze does not complete (it is undone first)
   */
  public void freeze() {
    group.freeze();
  }

  /** Thaws every process of the sandbox. */
  public void thaw() {
    group.thaw();
  }

  /** Kills every process of the sandbox, in every exec, and waits until none is left. */
  public void kill() {
    group.kill();
  }

  /**
   * Kills every process, waits until the groups are empty and removes every directory: the execs'
   * groups, then the sandbox's, then this JVM's directory and {@code kavach/} when no other sandbox
   * uses them. Works while frozen. Idempotent.
   *
   * @throws KavachException with {@link Reason#IO} naming what could not be removed
   */
  public void destroy() {
    synchronized (this) {
      destroyed = true;
    }
    try {
      group.remove();
    } finally {
      execs.clear();
      removeKavachDirs(planned, owner);
    }
  }

  @Override
  public String toString() {
    return "SandboxCgroup[" + sandboxId + " " + directories() + "]";
  }

  void forget(ExecCgroup exec) {
    execs.remove(exec.execId(), exec);
  }

  /** The JVM's own cgroup directory in a hierarchy mounted at {@code mount}. */
  static Path ownDir(Path mount, String ownCgroup) {
    String rel = ownCgroup.startsWith("/") ? ownCgroup.substring(1) : ownCgroup;
    Path dir = mount.resolve(rel).normalize();
    if (!dir.startsWith(mount)) {
      // A cgroup namespace whose root differs from the mount's shows paths like "/../..".
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "the JVM's own cgroup ("
              + ownCgroup
              + ") lies outside the cgroup mount "
              + mount
              + " (a cgroup namespace the mount does not match)");
    }
    return dir;
  }

  /**
   * Whether a limit may stand without a swap guard: the kernel has no swap accounting (no {@code
   * memsw} / {@code swap.max} file). Returns the failure, or null when no swap is active, so the
   * limit still covers everything the group can use.
   */
  static @Nullable String swapGuardMissing(String guardFile, String procSwaps) {
    if (!CgroupFiles.swapActive(procSwaps)) {
      return null;
    }
    return "swap is active and the kernel has no swap accounting ("
        + guardFile
        + " is missing; boot with swapaccount=1), so the limit could be bypassed by swapping";
  }

  private static void checkId(String what, String id) {
    Objects.requireNonNull(id, what);
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          what
              + " ("
              + id
              + ") must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit");
    }
  }

  /** Whether v2 groups have {@code cgroup.kill} and {@code cgroup.freeze}, seen in kavach/. */
  private static boolean[] v2Features(CgroupLayout layout, Map<String, String> own) {
    String mount = layout.v2Mount();
    if (mount == null) {
      return new boolean[] {false, false};
    }
    try {
      // The root cgroup has neither file, so look in kavach/, a non-root group we need anyway.
      Path kavach = ownDir(Path.of(mount), own.getOrDefault("", "/")).resolve(KAVACH_DIR);
      if (!Files.isDirectory(kavach)) {
        CgroupIo.mkdirIfAbsent(kavach);
      }
      return new boolean[] {
        Files.exists(kavach.resolve(CgroupFiles.V2_KILL)),
        Files.exists(kavach.resolve(CgroupFiles.V2_FREEZE))
      };
    } catch (IOException | KavachException e) {
      return new boolean[] {false, false}; // Creating the group itself reports the reason.
    }
  }

  /** Creates the sandbox's group in one hierarchy, applies its limits and reads them back. */
  private static Applied apply(
      Hierarchy h, Owner owner, String sandboxId, CgroupLimits limits, List<String> notes)
      throws RoleFailure {
    for (String c : h.controllers()) {
      enableOrFail(h, h.own(), c);
    }
    Path kavach = h.kavachDir();
    Path ownerDir = kavach.resolve(owner.dirName());
    Path dir = ownerDir.resolve(sandboxId);
    for (int attempt = 1; ; attempt++) {
      try {
        // The parents usually exist, and v1 has no controllers to enable in them: then the first
        // try is the group's own mkdir alone, and a missing parent (ENOENT) makes the next try
        // create them.
        if (attempt > 1 || !h.controllers().isEmpty()) {
          for (Path level : List.of(kavach, ownerDir)) {
            CgroupIo.mkdirIfAbsent(level);
            for (String c : h.controllers()) {
              enable(h, level, c);
            }
          }
        }
        if (!CgroupIo.mkdirIfAbsent(dir)) {
          throw new RoleFailure(
              h.roles(), dir + " already exists (another sandbox with id " + sandboxId + "?)");
        }
        break;
      } catch (NoSuchFileException e) {
        if (attempt == MKDIR_ATTEMPTS) {
          throw new RoleFailure(
              h.roles(), "cannot create " + failedPath(e, dir) + ": " + reasonOf(e));
        }
      } catch (IOException e) {
        throw new RoleFailure(
            h.roles(), "cannot create " + failedPath(e, dir) + ": " + reasonOf(e));
      }
    }
    try {
      for (String c : h.childControllers()) {
        enableOrFail(h, dir, c);
      }
      for (Write w : h.limitWrites(limits)) {
        write(dir, w, notes);
      }
      return new Applied(dir, readBack(h, dir, limits));
    } catch (RoleFailure f) {
      try {
        CgroupIo.rmdir(dir);
      } catch (IOException e) {
        throw new RoleFailure(
            h.roles(), f.reason + "; and cannot remove " + dir + ": " + reasonOf(e));
      }
      throw f;
    }
  }

  private static void enableOrFail(Hierarchy h, Path cgroup, String controller) throws RoleFailure {
    try {
      enable(h, cgroup, controller);
    } catch (NoSuchFileException e) {
      throw new RoleFailure(
          h.rolesOf(controller),
          "cannot enable " + controller + " in " + cgroup + ": " + reasonOf(e));
    }
  }

  /**
   * Makes a v2 controller available to the children of {@code cgroup}. Only a missing controller is
   * written: "+memory" in a cgroup that holds processes fails even when it changes nothing.
   */
  private static void enable(Hierarchy h, Path cgroup, String controller)
      throws RoleFailure, NoSuchFileException {
    Set<Role> roles = h.rolesOf(controller);
    Path subtree = cgroup.resolve(CgroupFiles.V2_SUBTREE_CONTROL);
    try {
      if (CgroupFiles.controllers(CgroupIo.read(subtree)).contains(controller)) {
        return;
      }
      List<String> offered =
          CgroupFiles.controllers(CgroupIo.read(cgroup.resolve(CgroupFiles.V2_CONTROLLERS)));
      if (!offered.contains(controller)) {
        throw new RoleFailure(
            roles,
            "the "
                + controller
                + " controller is not delegated to "
                + cgroup
                + " (its cgroup.controllers: "
                + (offered.isEmpty() ? "none" : String.join(" ", offered))
                + ")");
      }
      CgroupIo.write(subtree, "+" + controller);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      String reason = reasonOf(e);
      if (CgroupIo.reason(e).contains("busy")) {
        // The v2 "no internal processes" rule: only the root, or a cgroup without processes of
        // its own, may enable controllers for its children, and the JVM's own cgroup holds the
        // JVM. Nesting elsewhere would escape the JVM's cgroup, so that is left to the caller.
        reason +=
            " (cgroup v2 lets a cgroup other than the root hand controllers to its children only"
                + " if it holds no process itself, and "
                + cgroup
                + " holds processes, this JVM among them; give kavach a delegated cgroup without"
                + " processes as the JVM's v2 cgroup, with the JVM itself in a leaf beside it)";
      }
      throw new RoleFailure(
          roles, "cannot enable " + controller + " in " + subtree + ": " + reason);
    }
  }

  private static void write(Path dir, Write w, List<String> notes) throws RoleFailure {
    Path file = dir.resolve(w.file());
    try {
      CgroupIo.write(file, w.value());
    } catch (NoSuchFileException e) {
      if (!w.swapGuard()) {
        throw new RoleFailure(Set.of(w.role()), file + " does not exist");
      }
      String problem = swapGuardMissing(w.file(), HostProbe.read("/proc/swaps"));
      if (problem != null) {
        throw new RoleFailure(Set.of(w.role()), problem);
      }
      notes.add(
          w.role().label()
              + ": the kernel has no swap accounting ("
              + w.file()
              + " missing); safe because no swap is active");
    } catch (IOException e) {
      throw new RoleFailure(
          Set.of(w.role()), "cannot write " + w.value() + " to " + file + ": " + reasonOf(e));
    }
  }

  /** Reads each limit back and checks the kernel holds at least what was asked. */
  private static CgroupLimits readBack(Hierarchy h, Path dir, CgroupLimits limits)
      throws RoleFailure {
    long memory = 0;
    double cpu = 0;
    int pids = 0;
    try {
      if (h.has(Role.MEMORY_LIMIT)) {
        String f = h.v2() ? CgroupFiles.V2_MEMORY_MAX : CgroupFiles.V1_MEMORY_LIMIT;
        memory = CgroupFiles.limit(CgroupIo.read(dir.resolve(f)));
        if (memory <= 0 || memory > limits.memoryBytes() + PAGE_ROUNDING) {
          throw mismatch(Role.MEMORY_LIMIT, dir.resolve(f), limits.memoryBytes(), memory);
        }
      }
      if (h.has(Role.CPU_LIMIT)) {
        if (h.v2()) {
          cpu = CgroupFiles.cpuMax(CgroupIo.read(dir.resolve(CgroupFiles.V2_CPU_MAX)));
        } else {
          long quota = Long.parseLong(CgroupIo.read(dir.resolve(CgroupFiles.V1_CPU_QUOTA)).trim());
          long period =
              Long.parseLong(CgroupIo.read(dir.resolve(CgroupFiles.V1_CPU_PERIOD)).trim());
          cpu = CgroupFiles.cores(quota, period);
        }
        double asked = (double) limits.cpuQuotaMicros() / CgroupLimits.CPU_PERIOD_MICROS;
        if (cpu <= 0 || cpu > asked + 1e-9) {
          throw mismatch(Role.CPU_LIMIT, dir, asked, cpu);
        }
      }
      if (h.has(Role.PIDS_LIMIT)) {
        pids = (int) CgroupFiles.limit(CgroupIo.read(dir.resolve(CgroupFiles.PIDS_MAX)));
        if (pids != limits.pids()) {
          throw mismatch(Role.PIDS_LIMIT, dir.resolve(CgroupFiles.PIDS_MAX), limits.pids(), pids);
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new RoleFailure(h.limitRoles(), "cannot read back the limits in " + dir + ": " + e);
    }
    return new CgroupLimits(memory, cpu, pids);
  }

  private static RoleFailure mismatch(Role role, Path where, Object asked, Object got) {
    return new RoleFailure(
        Set.of(role), "asked for " + asked + " in " + where + ", but the kernel reports " + got);
  }

  /** Removes this JVM's directory and {@code kavach/} where no other sandbox is left in them. */
  private static void removeKavachDirs(List<Hierarchy> hierarchies, Owner owner) {
    for (Hierarchy h : hierarchies) {
      for (Path level : List.of(h.kavachDir().resolve(owner.dirName()), h.kavachDir())) {
        try {
          CgroupIo.rmdir(level);
        } catch (IOException e) {
          // Another sandbox still has its group there (EBUSY); the last one out removes it.
        }
      }
    }
  }

  /**
   * Removes the groups of JVMs that died without destroying their sandboxes (killed with SIGKILL,
   * say), killing whatever is still running in them: no one is left to collect those processes.
   * Failures are left for the next creation to retry.
   */
  private static void reapGoneOwners(List<Hierarchy> hierarchies, Owner self) {
    for (Hierarchy h : hierarchies) {
      // A glob on the name, so the control files beside the owners' directories are not stat'ed.
      try (DirectoryStream<Path> owners = Files.newDirectoryStream(h.kavachDir(), "jvm-*")) {
        for (Path dir : owners) {
          Optional<Owner> o = Owner.parse(dir.getFileName().toString());
          if (o.isPresent() && !o.get().equals(self) && o.get().goneFor(self)) {
            new Group("sandboxes of a dead JVM (" + dir + ")", Map.of(h, dir)).remove();
          }
        }
      } catch (IOException | KavachException e) {
        // Reaping is a courtesy to a dead JVM; the next creation tries again.
      }
    }
  }

  private static String failedPath(IOException e, Path fallback) {
    return e instanceof FileSystemException f && f.getFile() != null
        ? f.getFile()
        : fallback.toString();
  }

  private static String reasonOf(IOException e) {
    String reason = CgroupIo.reason(e);
    if (e instanceof AccessDeniedException) {
      reason +=
          " (no cgroup delegation: user "
              + System.getProperty("user.name")
              + " may not create cgroups here; run as root or in a cgroup delegated to this user)";
    }
    return reason;
  }

  /** The directory and limits of one hierarchy after a successful {@link #apply}. */
  private record Applied(Path dir, CgroupLimits inForce) {}

  /** Roles of a hierarchy that could not be applied, with the host's reason. */
  private static final class RoleFailure extends Exception {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings("serial") // Never serialized; an immutable EnumSet copy.
    final Set<Role> roles;

    final String reason;

    RoleFailure(Set<Role> roles, String reason) {
      super(reason, null, false, false);
      this.roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
      this.reason = reason;
    }
  }
}
