package dev.kavach.backend.process.cgroup;

import dev.kavach.internal.host.CgroupLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Which cgroup hierarchies one sandbox uses and what each is for. Pure: computed from the host's
 * layout, the JVM's own cgroups and the requested limits, so every decision is tested on fixture
 * layouts (hybrid, pure v1, pure v2) without touching the host.
 *
 * <p>The rules: a limit goes where its controller is, v2 when the v2 root lists it, else v1.
 * Killing uses v2 {@code cgroup.kill}; freezing uses v2 {@code cgroup.freeze}, else the v1 freezer;
 * CPU time comes from v2 {@code cpu.stat} (a core file, present without the cpu controller), else
 * v1 {@code cpuacct}. Memory and pids hierarchies are joined even without a limit, for peak usage
 * and OOM reporting. Nothing else is joined: every hierarchy costs a mkdir, a write and an rmdir
 * per exec.
 *
 * @param hierarchies the hierarchies to use, in the order the launcher joins them: the one that can
 *     kill or freeze comes first, so a launcher stopped half-way through joining can still be
 *     killed through its cgroup
 * @param unavailable requested limits no hierarchy can carry
 * @param notes other things the host cannot do (pause, CPU time), each with the reason
 */
record CgroupPlan(List<Hierarchy> hierarchies, List<Problem> unavailable, List<Problem> notes) {

  /**
   * Something requested or wanted that the host cannot do.
   *
   * @param control what it is: the policy field of a limit ({@code memory_limit_mb}) or a feature
   *     ({@code pause and resume})
   * @param reason the host's reason
   */
  record Problem(String control, String reason) {
    /** As an error: "memory_limit_mb: reason". */
    String failure() {
      return control + ": " + reason;
    }

    /** As a note of a best-effort run: "memory_limit_mb: not applied (reason)". */
    String skipped() {
      return control + ": " + (isLimit() ? "not applied" : "unavailable") + " (" + reason + ")";
    }

    private boolean isLimit() {
      return List.of(Role.MEMORY_LIMIT, Role.CPU_LIMIT, Role.PIDS_LIMIT).stream()
          .anyMatch(r -> r.label().equals(control));
    }
  }

  /** What kavach uses a hierarchy for. */
  enum Role {
    // Limits are named by their policy field, as every enforcement error is.
    MEMORY_LIMIT("memory_limit_mb", "memory"),
    CPU_LIMIT("cpu_limit", "cpu"),
    PIDS_LIMIT("max_pids", "pids"),
    MEMORY_ACCOUNTING("peak memory and OOM reporting", "memory"),
    PIDS_ACCOUNTING("peak pids reporting", "pids"),
    // v2 cpu.stat is a core file; on v1 the plan picks the cpuacct hierarchy.
    CPU_ACCOUNTING("CPU time reporting", null),
    FREEZE("pause and resume", null),
    KILL("cgroup.kill", null);

    private final String label;
    private final @Nullable String controller;

    Role(String label, @Nullable String controller) {
      this.label = label;
      this.controller = controller;
    }

    /** The v2 controller this role needs enabled down to the sandbox's group, if any. */
    @Nullable String controller() {
      return controller;
    }

    /** How messages name the role ({@code memory_limit_mb}). */
    String label() {
      return label;
    }

    boolean isLimit() {
      return this == MEMORY_LIMIT || this == CPU_LIMIT || this == PIDS_LIMIT;
    }
  }

  /**
   * One file write that applies a limit.
   *
   * @param file control file name in the sandbox's cgroup
   * @param value what to write
   * @param role the limit it applies
   * @param swapGuard whether this write stops the memory limit being bypassed by swapping; such a
   *     file is missing when the kernel has no swap accounting, which is safe only without swap
   */
  record Write(String file, String value, Role role, boolean swapGuard) {}

  /**
   * One hierarchy kavach uses.
   *
   * @param name {@code v2}, or the controllers of the v1 mount ({@code cpu,cpuacct})
   * @param mount where the hierarchy is mounted
   * @param own the JVM's own cgroup in it; kavach's groups nest below, so limits set on the JVM's
   *     cgroup (or any ancestor) still hold for the sandbox
   * @param v2 whether this is the cgroup v2 hierarchy
   * @param roles what kavach uses it for
   */
  record Hierarchy(String name, Path mount, Path own, boolean v2, Set<Role> roles) {

    /** Copies the roles. */
    Hierarchy {
      roles = Set.copyOf(roles);
    }

    /** v2 only: the controllers to enable from the JVM's cgroup down to the sandbox's, sorted. */
    List<String> controllers() {
      Set<String> out = new TreeSet<>();
      if (v2) {
        roles.stream().map(Role::controller).filter(Objects::nonNull).forEach(out::add);
      }
      return List.copyOf(out);
    }

    /** The same hierarchy without some roles (after they failed to apply). */
    Hierarchy without(Set<Role> failed) {
      Set<Role> left = EnumSet.noneOf(Role.class);
      left.addAll(roles);
      left.removeAll(failed);
      return new Hierarchy(name, mount, own, v2, left);
    }

    /** The roles that need a v2 controller. */
    Set<Role> rolesOf(String controller) {
      Set<Role> out = EnumSet.noneOf(Role.class);
      roles.stream().filter(r -> controller.equals(r.controller())).forEach(out::add);
      return out;
    }

    /** The directory kavach creates for its groups: {@code <own>/kavach}. */
    Path kavachDir() {
      return own.resolve(SandboxCgroup.KAVACH_DIR);
    }

    boolean has(Role role) {
      return roles.contains(role);
    }

    /** The limit roles of this hierarchy. */
    Set<Role> limitRoles() {
      Set<Role> out = EnumSet.noneOf(Role.class);
      roles.stream().filter(Role::isLimit).forEach(out::add);
      return out;
    }

    /**
     * v2 controllers to enable in the sandbox group's {@code cgroup.subtree_control}, so each
     * exec's own group reports its peak memory, OOM kills and peak pids. The limits stay on the
     * sandbox's group.
     */
    List<String> childControllers() {
      List<String> out = new ArrayList<>();
      if (v2 && has(Role.MEMORY_ACCOUNTING)) {
        out.add("memory");
      }
      if (v2 && has(Role.PIDS_ACCOUNTING)) {
        out.add("pids");
      }
      return out;
    }

    /**
     * The writes that apply {@code limits} in this hierarchy, in order. On v1: {@code
     * use_hierarchy} first, because the limit sits on the sandbox's group while the processes sit
     * in the execs' child groups, and kernels before 5.x let a child escape its parent's limit when
     * it is 0 (it can be set only before the group has children; later kernels accept "1" and
     * ignore it); the memory limit before memory+swap (the kernel keeps memsw at least as large);
     * and the OOM killer switched on, because v1 copies {@code oom_kill_disable} from the parent.
     */
    List<Write> limitWrites(CgroupLimits limits) {
      List<Write> out = new ArrayList<>();
      if (has(Role.MEMORY_LIMIT)) {
        String bytes = Long.toString(limits.memoryBytes());
        if (v2) {
          out.add(new Write(CgroupFiles.V2_MEMORY_MAX, bytes, Role.MEMORY_LIMIT, false));
          out.add(new Write(CgroupFiles.V2_SWAP_MAX, "0", Role.MEMORY_LIMIT, true));
        } else {
          out.add(new Write(CgroupFiles.V1_USE_HIERARCHY, "1", Role.MEMORY_LIMIT, false));
          out.add(new Write(CgroupFiles.V1_MEMORY_LIMIT, bytes, Role.MEMORY_LIMIT, false));
          out.add(new Write(CgroupFiles.V1_MEMSW_LIMIT, bytes, Role.MEMORY_LIMIT, true));
          out.add(new Write(CgroupFiles.V1_OOM_CONTROL, "0", Role.MEMORY_LIMIT, false));
        }
      }
      if (has(Role.CPU_LIMIT)) {
        long quota = limits.cpuQuotaMicros();
        if (v2) {
          out.add(
              new Write(
                  CgroupFiles.V2_CPU_MAX, CgroupFiles.cpuMaxValue(quota), Role.CPU_LIMIT, false));
        } else {
          out.add(
              new Write(
                  CgroupFiles.V1_CPU_PERIOD,
                  Long.toString(CgroupLimits.CPU_PERIOD_MICROS),
                  Role.CPU_LIMIT,
                  false));
          out.add(new Write(CgroupFiles.V1_CPU_QUOTA, Long.toString(quota), Role.CPU_LIMIT, false));
        }
      }
      if (has(Role.PIDS_LIMIT)) {
        out.add(
            new Write(
                CgroupFiles.PIDS_MAX, Integer.toString(limits.pids()), Role.PIDS_LIMIT, false));
      }
      return out;
    }
  }

  /** Copies the collections. */
  CgroupPlan {
    hierarchies = List.copyOf(hierarchies);
    unavailable = List.copyOf(unavailable);
    notes = List.copyOf(notes);
  }

  /**
   * Plans the hierarchies for one sandbox.
   *
   * @param layout where the controllers are mounted
   * @param ownCgroups the JVM's cgroup per controller ({@code ""} for v2), from {@code
   *     /proc/self/cgroup}
   * @param limits what is asked for
   * @param v2Kill whether v2 groups have {@code cgroup.kill} (Linux 5.14+)
   * @param v2Freeze whether v2 groups have {@code cgroup.freeze} (Linux 5.2+)
   */
  static CgroupPlan of(
      CgroupLayout layout,
      Map<String, String> ownCgroups,
      CgroupLimits limits,
      boolean v2Kill,
      boolean v2Freeze) {
    Planner p = new Planner(layout, ownCgroups);
    String v2 = layout.v2Mount();
    if (v2 != null && v2Kill) {
      p.addV2(Role.KILL);
    }
    if (v2 != null && v2Freeze) {
      p.addV2(Role.FREEZE);
    } else if (layout.v1().containsKey("freezer")) {
      p.addV1("freezer", Role.FREEZE);
    } else {
      p.notes.add(
          new Problem(
              Role.FREEZE.label(), "no cgroup.freeze in cgroup v2 and no v1 freezer hierarchy"));
    }
    p.limit("memory", Role.MEMORY_LIMIT, limits.memoryBytes() > 0);
    p.limit("pids", Role.PIDS_LIMIT, limits.pids() > 0);
    p.limit("cpu", Role.CPU_LIMIT, limits.cpuCores() > 0);
    p.account("memory", Role.MEMORY_ACCOUNTING);
    p.account("pids", Role.PIDS_ACCOUNTING);
    if (v2 != null) {
      p.addV2(Role.CPU_ACCOUNTING);
    } else if (layout.v1().containsKey("cpuacct")) {
      p.addV1("cpuacct", Role.CPU_ACCOUNTING);
    } else {
      p.notes.add(
          new Problem(Role.CPU_ACCOUNTING.label(), "no cgroup v2 and no v1 cpuacct hierarchy"));
    }
    return new CgroupPlan(p.build(), p.unavailable, p.notes);
  }

  /** The hierarchy with a role, or null. */
  @Nullable Hierarchy with(Role role) {
    for (Hierarchy h : hierarchies) {
      if (h.has(role)) {
        return h;
      }
    }
    return null;
  }

  /** Accumulates roles per mount point while planning. */
  private static final class Planner {
    private final CgroupLayout layout;
    private final Map<String, String> ownCgroups;
    private final Map<String, Acc> byMount = new LinkedHashMap<>();
    private final List<Problem> unavailable = new ArrayList<>();
    private final List<Problem> notes = new ArrayList<>();

    Planner(CgroupLayout layout, Map<String, String> ownCgroups) {
      this.layout = layout;
      this.ownCgroups = ownCgroups;
    }

    void limit(String controller, Role role, boolean requested) {
      if (!requested) {
        return;
      }
      String version = layout.versionOf(controller).orElse("");
      if (version.equals("v2")) {
        addV2(role);
      } else if (version.equals("v1")) {
        addV1(controller, role);
      } else {
        unavailable.add(
            new Problem(
                role.label(),
                "no "
                    + controller
                    + " controller on this host (no cgroup v1 "
                    + controller
                    + " hierarchy, and cgroup v2 "
                    + (layout.v2Mount() == null
                        ? "is not mounted"
                        : "does not list it in cgroup.controllers")
                    + ")"));
      }
    }

    void account(String controller, Role role) {
      String version = layout.versionOf(controller).orElse("");
      if (version.equals("v2")) {
        addV2(role);
      } else if (version.equals("v1")) {
        addV1(controller, role);
      }
    }

    void addV2(Role role) {
      String mount = Objects.requireNonNull(layout.v2Mount(), "v2Mount");
      byMount.computeIfAbsent(mount, m -> new Acc("v2", m, ownPath(m, ""), true)).roles.add(role);
    }

    void addV1(String controller, Role role) {
      String mount = layout.v1().get(controller);
      Acc a =
          byMount.computeIfAbsent(mount, m -> new Acc(v1Name(m), m, ownPath(m, controller), false));
      a.roles.add(role);
    }

    // The controllers co-mounted at one v1 mount point, for messages ("cpu,cpuacct").
    private String v1Name(String mount) {
      Set<String> names = new TreeSet<>();
      layout
          .v1()
          .forEach(
              (c, m) -> {
                if (m.equals(mount)) {
                  names.add(c);
                }
              });
      return String.join(",", names);
    }

    private Path ownPath(String mount, String key) {
      return SandboxCgroup.ownDir(Path.of(mount), ownCgroups.getOrDefault(key, "/"));
    }

    List<Hierarchy> build() {
      List<Hierarchy> control = new ArrayList<>();
      List<Hierarchy> rest = new ArrayList<>();
      for (Acc a : byMount.values()) {
        Hierarchy h = new Hierarchy(a.name, a.mount, a.own, a.v2, a.roles);
        (h.has(Role.KILL) || h.has(Role.FREEZE) ? control : rest).add(h);
      }
      control.addAll(rest);
      return control;
    }
  }

  private static final class Acc {
    final String name;
    final Path mount;
    final Path own;
    final boolean v2;
    final Set<Role> roles = EnumSet.noneOf(Role.class);

    Acc(String name, String mount, Path own, boolean v2) {
      this.name = name;
      this.mount = Path.of(mount);
      this.own = own;
      this.v2 = v2;
    }
  }
}
