package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.backend.process.cgroup.CgroupPlan.Hierarchy;
import dev.kavach.backend.process.cgroup.CgroupPlan.Problem;
import dev.kavach.backend.process.cgroup.CgroupPlan.Role;
import dev.kavach.backend.process.cgroup.CgroupPlan.Write;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.ProcCgroup;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decisions of {@link CgroupPlan} on the layouts kavach meets, as fixture strings. */
class CgroupPlanTest {
  static final CgroupLimits ALL = new CgroupLimits(64L << 20, 0.25, 20);

  // This project's machines: limits on v1, a v2 mount with only hugetlb, the JVM nested in the
  // memory hierarchy only.
  static final CgroupLayout HYBRID =
      CgroupLayout.parseMounts(
              """
              tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
              cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
              cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
              cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
              cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
              cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0
              cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0
              cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0
              cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
              cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
              cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
              """)
          .withV2Controllers("hugetlb\n");
  static final Map<String, String> HYBRID_OWN =
      ProcCgroup.parse(
          """
          9:name=systemd:/
          8:pids:/
          7:blkio:/
          6:freezer:/
          5:devices:/
          4:memory:/process_api/1d19d896
          3:cpuset:/
          2:cpuacct:/
          1:cpu:/
          0::/
          """);

  // A systemd host on cgroup v2 only.
  static final CgroupLayout PURE_V2 =
      CgroupLayout.parseMounts(
              "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n")
          .withV2Controllers("cpuset cpu io memory hugetlb pids rdma misc\n");
  static final Map<String, String> PURE_V2_OWN =
      ProcCgroup.parse("0::/user.slice/user-1000.slice/app.slice/kavach-demo.service\n");

  // An older pure v1 host: cpu and cpuacct co-mounted, a freezer, no cgroup2 at all.
  static final CgroupLayout PURE_V1 =
      CgroupLayout.parseMounts(
          """
          cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
          cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0
          cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0
          cgroup /sys/fs/cgroup/freezer cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0
          """);
  static final Map<String, String> PURE_V1_OWN =
      ProcCgroup.parse(
          """
          4:freezer:/
          3:pids:/system.slice/app.service
          2:memory:/system.slice/app.service
          1:cpu,cpuacct:/system.slice/app.service
          """);

  @Test
  void hybridPutsLimitsOnV1AndKillFreezeAndCpuTimeOnV2() {
    CgroupPlan plan = CgroupPlan.of(HYBRID, HYBRID_OWN, ALL, true, true);
    assertThat(plan.unavailable()).isEmpty();
    assertThat(plan.notes()).isEmpty();
    assertThat(plan.hierarchies())
        .extracting(Hierarchy::name)
        .containsExactly("v2", "memory", "pids", "cpu"); // kill first; no freezer, no cpuacct
    Hierarchy v2 = plan.hierarchies().get(0);
    assertThat(v2.roles()).containsOnly(Role.KILL, Role.FREEZE, Role.CPU_ACCOUNTING);
    assertThat(v2.own()).isEqualTo(Path.of("/sys/fs/cgroup/unified"));
    assertThat(v2.controllers()).isEmpty(); // v2 here has no controller kavach needs
    assertThat(v2.limitWrites(ALL)).isEmpty();

    Hierarchy memory = plan.with(Role.MEMORY_LIMIT);
    assertThat(memory.own()).isEqualTo(Path.of("/sys/fs/cgroup/memory/process_api/1d19d896"));
    assertThat(memory.kavachDir())
        .isEqualTo(Path.of("/sys/fs/cgroup/memory/process_api/1d19d896/kavach"));
    assertThat(memory.roles()).containsOnly(Role.MEMORY_LIMIT, Role.MEMORY_ACCOUNTING);
    assertThat(memory.limitWrites(ALL))
        .containsExactly(
            new Write("memory.use_hierarchy", "1", Role.MEMORY_LIMIT, false),
            new Write("memory.limit_in_bytes", "67108864", Role.MEMORY_LIMIT, false),
            new Write("memory.memsw.limit_in_bytes", "67108864", Role.MEMORY_LIMIT, true),
            new Write("memory.oom_control", "0", Role.MEMORY_LIMIT, false));
    assertThat(plan.with(Role.CPU_LIMIT).limitWrites(ALL))
        .containsExactly(
            new Write("cpu.cfs_period_us", "100000", Role.CPU_LIMIT, false),
            new Write("cpu.cfs_quota_us", "25000", Role.CPU_LIMIT, false));
    assertThat(plan.with(Role.PIDS_LIMIT).limitWrites(ALL))
        .containsExactly(new Write("pids.max", "20", Role.PIDS_LIMIT, false));
    assertThat(plan.with(Role.PIDS_LIMIT).own()).isEqualTo(Path.of("/sys/fs/cgroup/pids"));
  }

  @Test
  void hybridWithoutLimitsJoinsOnlyWhatReportsUsage() {
    CgroupPlan plan = CgroupPlan.of(HYBRID, HYBRID_OWN, CgroupLimits.none(), true, true);
    // No cpu hierarchy: v2 cpu.stat gives the CPU time, and v1 cpu would cost a mkdir per exec.
    assertThat(plan.hierarchies())
        .extracting(Hierarchy::name)
        .containsExactly("v2", "memory", "pids");
    assertThat(plan.with(Role.MEMORY_LIMIT)).isNull();
    assertThat(plan.with(Role.MEMORY_ACCOUNTING).name()).isEqualTo("memory");
  }

  @Test
  void hybridOnAnOldKernelFreezesAndKillsThroughTheV1Freezer() {
    // Linux < 5.2: no cgroup.freeze and no cgroup.kill in v2 groups.
    CgroupPlan plan = CgroupPlan.of(HYBRID, HYBRID_OWN, ALL, false, false);
    assertThat(plan.hierarchies())
        .extracting(Hierarchy::name)
        .containsExactly("freezer", "memory", "pids", "cpu", "v2");
    assertThat(plan.with(Role.FREEZE).name()).isEqualTo("freezer");
    assertThat(plan.with(Role.KILL)).isNull(); // kill = freeze, SIGKILL each pid, thaw
    assertThat(plan.with(Role.CPU_ACCOUNTING).name()).isEqualTo("v2");
  }

  @Test
  void hybridWithV2FreezeButNoKillUsesV2ForBoth() {
    // Linux 5.2 to 5.13: kill by freezing in v2, which also stops forks.
    CgroupPlan plan = CgroupPlan.of(HYBRID, HYBRID_OWN, ALL, false, true);
    assertThat(plan.hierarchies().get(0).name()).isEqualTo("v2");
    assertThat(plan.with(Role.FREEZE).name()).isEqualTo("v2");
    assertThat(plan.with(Role.KILL)).isNull();
    assertThat(plan.hierarchies()).extracting(Hierarchy::name).doesNotContain("freezer");
  }

  @Test
  void pureV2UsesOneHierarchyForEverything() {
    CgroupPlan plan = CgroupPlan.of(PURE_V2, PURE_V2_OWN, ALL, true, true);
    assertThat(plan.unavailable()).isEmpty();
    assertThat(plan.hierarchies()).hasSize(1);
    Hierarchy h = plan.hierarchies().get(0);
    assertThat(h.v2()).isTrue();
    assertThat(h.own())
        .isEqualTo(
            Path.of("/sys/fs/cgroup/user.slice/user-1000.slice/app.slice/kavach-demo.service"));
    assertThat(h.roles()).containsOnly(Role.values());
    assertThat(h.controllers()).containsExactly("cpu", "memory", "pids");
    assertThat(h.childControllers()).containsExactly("memory", "pids");
    assertThat(h.limitWrites(ALL))
        .containsExactly(
            new Write("memory.max", "67108864", Role.MEMORY_LIMIT, false),
            new Write("memory.swap.max", "0", Role.MEMORY_LIMIT, true),
            new Write("cpu.max", "25000 100000", Role.CPU_LIMIT, false),
            new Write("pids.max", "20", Role.PIDS_LIMIT, false));
  }

  @Test
  void pureV2WithoutLimitsStillEnablesAccountingControllers() {
    Hierarchy h =
        CgroupPlan.of(PURE_V2, PURE_V2_OWN, CgroupLimits.none(), true, true).hierarchies().get(0);
    assertThat(h.controllers()).containsExactly("memory", "pids"); // no cpu: cpu.stat is core
    assertThat(h.limitWrites(CgroupLimits.none())).isEmpty();
  }

  @Test
  void aFailedRoleDropsItsControllerButKeepsTheRest() {
    Hierarchy h = CgroupPlan.of(PURE_V2, PURE_V2_OWN, ALL, true, true).hierarchies().get(0);
    assertThat(h.rolesOf("memory")).containsOnly(Role.MEMORY_LIMIT, Role.MEMORY_ACCOUNTING);
    Hierarchy left = h.without(h.rolesOf("memory"));
    assertThat(left.controllers()).containsExactly("cpu", "pids");
    assertThat(left.childControllers()).containsExactly("pids");
    assertThat(left.limitWrites(ALL))
        .extracting(Write::file)
        .containsExactly("cpu.max", "pids.max");
  }

  @Test
  void pureV1UsesTheFreezerAndTheCoMountedCpuacct() {
    CgroupPlan plan = CgroupPlan.of(PURE_V1, PURE_V1_OWN, ALL, false, false);
    assertThat(plan.unavailable()).isEmpty();
    assertThat(plan.hierarchies())
        .extracting(Hierarchy::name)
        .containsExactly("freezer", "memory", "pids", "cpu,cpuacct");
    Hierarchy cpu = plan.with(Role.CPU_LIMIT);
    assertThat(cpu.roles()).containsOnly(Role.CPU_LIMIT, Role.CPU_ACCOUNTING);
    assertThat(cpu.own()).isEqualTo(Path.of("/sys/fs/cgroup/cpu,cpuacct/system.slice/app.service"));
    assertThat(plan.with(Role.FREEZE).own()).isEqualTo(Path.of("/sys/fs/cgroup/freezer"));
    assertThat(plan.with(Role.KILL)).isNull();
    assertThat(cpu.controllers()).isEmpty(); // nothing to enable on v1
  }

  @Test
  void v1WithoutFreezerOrCpuacctSaysWhatIsMissing() {
    CgroupLayout layout =
        CgroupLayout.parseMounts(
            """
            cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0
            cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0
            """);
    CgroupPlan plan = CgroupPlan.of(layout, Map.of(), ALL, false, false);
    assertThat(plan.unavailable()).isEmpty();
    assertThat(plan.notes())
        .extracting(Problem::skipped)
        .containsExactly(
            "pause and resume: unavailable (no cgroup.freeze in cgroup v2 and no v1 freezer"
                + " hierarchy)",
            "CPU time reporting: unavailable (no cgroup v2 and no v1 cpuacct hierarchy)");
    assertThat(plan.with(Role.FREEZE)).isNull();
    assertThat(plan.with(Role.MEMORY_LIMIT).own()).isEqualTo(Path.of("/sys/fs/cgroup/memory"));
  }

  @Test
  void aHostWithoutControllersCannotCarryAnyLimit() {
    CgroupPlan plan =
        CgroupPlan.of(
            new CgroupLayout(Map.of(), null, java.util.Set.of()), Map.of(), ALL, false, false);
    assertThat(plan.hierarchies()).isEmpty();
    assertThat(plan.unavailable())
        .extracting(Problem::failure)
        .containsExactly(
            "memory_limit_mb: no memory controller on this host (no cgroup v1 memory hierarchy, and"
                + " cgroup v2 is not mounted)",
            "max_pids: no pids controller on this host (no cgroup v1 pids hierarchy, and cgroup v2"
                + " is not mounted)",
            "cpu_limit: no cpu controller on this host (no cgroup v1 cpu hierarchy, and cgroup v2"
                + " is not mounted)");
    assertThat(plan.unavailable().get(0).skipped())
        .isEqualTo(
            "memory_limit_mb: not applied (no memory controller on this host (no cgroup v1 memory"
                + " hierarchy, and cgroup v2 is not mounted))");
  }

  @Test
  void aV2MountWithoutTheControllerSaysSo() {
    CgroupLayout v2Empty =
        CgroupLayout.parseMounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n").withV2Controllers("");
    CgroupPlan plan =
        CgroupPlan.of(v2Empty, Map.of("", "/"), new CgroupLimits(1 << 20, 0, 0), true, true);
    assertThat(plan.unavailable())
        .extracting(Problem::failure)
        .containsExactly(
            "memory_limit_mb: no memory controller on this host (no cgroup v1 memory hierarchy,"
                + " and cgroup v2 does not list it in cgroup.controllers)");
    assertThat(plan.hierarchies()).extracting(Hierarchy::name).containsExactly("v2");
  }

  @Test
  void mixedHybridTakesEachControllerWhereItIs() {
    // memory moved to v2, pids and cpu still on v1 (a half-migrated systemd hybrid host).
    CgroupLayout layout =
        CgroupLayout.parseMounts(
                """
                cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0
                cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0
                cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0
                """)
            .withV2Controllers("memory");
    CgroupPlan plan = CgroupPlan.of(layout, Map.of("", "/"), ALL, true, true);
    assertThat(plan.with(Role.MEMORY_LIMIT).name()).isEqualTo("v2");
    assertThat(plan.with(Role.MEMORY_LIMIT).controllers()).containsExactly("memory");
    assertThat(plan.with(Role.PIDS_LIMIT).name()).isEqualTo("pids");
    assertThat(plan.with(Role.CPU_LIMIT).name()).isEqualTo("cpu,cpuacct");
    // CPU time from v2 cpu.stat even though cpuacct is there: it is a core file of a group we join.
    assertThat(plan.with(Role.CPU_ACCOUNTING).name()).isEqualTo("v2");
    assertThat(plan.with(Role.CPU_LIMIT).roles()).containsOnly(Role.CPU_LIMIT);
  }

  @Test
  void refusesAnOwnCgroupOutsideTheMount() {
    assertThatThrownBy(
            () -> CgroupPlan.of(PURE_V2, Map.of("", "/../.."), CgroupLimits.none(), true, true))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("lies outside the cgroup mount /sys/fs/cgroup");
  }

  @Test
  void joiningOrderPutsTheKillingHierarchyFirst() {
    for (CgroupPlan plan :
        List.of(
            CgroupPlan.of(HYBRID, HYBRID_OWN, ALL, true, true),
            CgroupPlan.of(HYBRID, HYBRID_OWN, ALL, false, false),
            CgroupPlan.of(PURE_V1, PURE_V1_OWN, ALL, false, false))) {
      Hierarchy first = plan.hierarchies().get(0);
      assertThat(first.has(Role.KILL) || first.has(Role.FREEZE)).as(plan.toString()).isTrue();
    }
  }
}
