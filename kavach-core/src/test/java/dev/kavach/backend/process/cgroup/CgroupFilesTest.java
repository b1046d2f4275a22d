package dev.kavach.backend.process.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CgroupFilesTest {
  @Test
  void parsesV2MemoryEvents() {
    String events = "low 0\nhigh 0\nmax 41\noom 1\noom_kill 1\noom_group_kill 0\n";
    assertThat(CgroupFiles.oomKills(events)).isEqualTo(1);
    assertThat(CgroupFiles.keyed(events)).containsEntry("max", 41L).hasSize(6);
    assertThat(CgroupFiles.oomKills("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")).isZero();
  }

  @Test
  void parsesV1OomControl() {
    assertThat(CgroupFiles.oomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")).isEqualTo(3);
    // Kernels before 4.13 have no oom_kill counter: unknown, not zero.
    assertThat(CgroupFiles.oomKills("oom_kill_disable 0\nunder_oom 0\n")).isEqualTo(-1);
  }

  @Test
  void parsesV2CpuStat() {
    String stat =
        "usage_usec 1004674\nuser_usec 1000200\nsystem_usec 4474\nnice_usec 0\n"
            + "core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";
    assertThat(CgroupFiles.cpuStatNanos(stat)).isEqualTo(1_004_674_000L);
    assertThat(CgroupFiles.cpuStatNanos("nr_periods 3\n")).isEqualTo(-1);
  }

  @Test
  void parsesV1CpuacctUsage() {
    assertThat(CgroupFiles.cpuacctNanos("479984365624\n")).isEqualTo(479_984_365_624L);
  }

  @Test
  void parsesV1MemoryStat() {
    String stat =
        "cache 9322496\nrss 14872576\nswap 0\n"
            + "hierarchical_memory_limit 9223372036854771712\n"
            + "hierarchical_memsw_limit 67108864\ntotal_rss 28086272\n";
    assertThat(CgroupFiles.keyed(stat))
        .containsEntry("rss", 14_872_576L)
        .containsEntry("hierarchical_memsw_limit", 67_108_864L);
    assertThat(CgroupFiles.limit("9223372036854771712")).isZero();
  }

  @Test
  void parsesLimitsWithNoLimitAsZero() {
    assertThat(CgroupFiles.limit("max\n")).isZero();
    assertThat(CgroupFiles.limit("67108864\n")).isEqualTo(67_108_864L);
    assertThat(CgroupFiles.limit("20")).isEqualTo(20);
    // v1 memory.limit_in_bytes with no limit (PAGE_COUNTER_MAX pages of 4 KiB and of 64 KiB)
    assertThat(CgroupFiles.limit("9223372036854771712")).isZero();
    assertThat(CgroupFiles.limit("9223372036854710272")).isZero();
  }

  @Test
  void parsesCpuLimits() {
    assertThat(CgroupFiles.cpuMax("25000 100000\n")).isCloseTo(0.25, within(1e-12));
    assertThat(CgroupFiles.cpuMax("max 100000\n")).isZero();
    assertThat(CgroupFiles.cpuMax("150000 100000")).isCloseTo(1.5, within(1e-12));
    assertThat(CgroupFiles.cores(25_000, 100_000)).isCloseTo(0.25, within(1e-12));
    assertThat(CgroupFiles.cores(-1, 100_000)).isZero(); // v1 cfs_quota_us -1 is no limit
    assertThat(CgroupFiles.cpuMaxValue(25_000)).isEqualTo("25000 100000");
  }

  @Test
  void parsesProcsAndEvents() {
    assertThat(CgroupFiles.pids("11680\n11702\n")).containsExactly(11680L, 11702L);
    assertThat(CgroupFiles.pids("")).isEmpty();
    assertThat(CgroupFiles.unpopulated("populated 0\nfrozen 1\n")).isTrue();
    assertThat(CgroupFiles.frozen("populated 0\nfrozen 1\n")).isTrue();
    assertThat(CgroupFiles.unpopulated("populated 1\nfrozen 0\n")).isFalse();
    assertThat(CgroupFiles.frozen("populated 1\nfrozen 0\n")).isFalse();
    assertThat(CgroupFiles.counter("max 1\n", "max")).isEqualTo(1); // pids.events
  }

  @Test
  void parsesControllerLists() {
    assertThat(CgroupFiles.controllers("cpuset cpu io memory hugetlb pids rdma misc\n"))
        .containsExactly("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc");
    assertThat(CgroupFiles.controllers("\n")).isEmpty();
  }

  @Test
  void tellsWhetherSwapIsActive() {
    String none = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    assertThat(CgroupFiles.swapActive(none)).isFalse();
    assertThat(CgroupFiles.swapActive(none + "/swapfile  file  2097148  0  -2\n")).isTrue();
    assertThat(SandboxCgroup.swapGuardMissing("memory.memsw.limit_in_bytes", none)).isNull();
    assertThat(
            SandboxCgroup.swapGuardMissing(
                "memory.memsw.limit_in_bytes", none + "/swapfile  file  2097148  0  -2\n"))
        .contains("swap is active")
        .contains("memory.memsw.limit_in_bytes is missing")
        .contains("swapaccount=1");
  }
}
