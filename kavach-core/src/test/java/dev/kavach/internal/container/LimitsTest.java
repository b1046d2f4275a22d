package dev.kavach.internal.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.internal.host.CgroupLayout;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LimitsTest {
  private static final String MOUNTS =
      "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
          + "cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0\n"
          + "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
          + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n";

  @Test
  void readsV1LimitsOfTheProcessCgroups() {
    CgroupLayout layout = CgroupLayout.parseMounts(MOUNTS).withV2Controllers("hugetlb");
    Map<String, String> files =
        Map.of(
            "/proc/42/cgroup",
            "12:pids:/kavach/kv-1\n9:cpu,cpuacct:/kavach/kv-1\n4:memory:/kavach/kv-1\n0::/\n",
            "/sys/fs/cgroup/memory/kavach/kv-1/memory.limit_in_bytes",
            "67108864\n",
            "/sys/fs/cgroup/memory/kavach/kv-1/memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
            "/sys/fs/cgroup/cpu,cpuacct/kavach/kv-1/cpu.cfs_quota_us",
            "50000\n",
            "/sys/fs/cgroup/cpu,cpuacct/kavach/kv-1/cpu.cfs_period_us",
            "100000\n",
            "/sys/fs/cgroup/pids/kavach/kv-1/pids.max",
            "64\n");
    Limits l = Limits.read(42, layout, f -> files.getOrDefault(f, ""));
    assertThat(l.memoryBytes()).isEqualTo(64L << 20);
    assertThat(l.cpuCores()).isEqualTo(0.5);
    assertThat(l.pids()).isEqualTo(64);
    assertThat(l.oomKills()).isEqualTo(2);
    assertThat(l.memoryControl()).hasValue("/sys/fs/cgroup/memory/kavach/kv-1/memory.oom_control");
  }

  @Test
  void unlimitedV1ValuesReadAsNoLimit() {
    CgroupLayout layout = CgroupLayout.parseMounts(MOUNTS);
    Map<String, String> files =
        Map.of(
            "/proc/42/cgroup",
            "12:pids:/x\n9:cpu,cpuacct:/x\n4:memory:/x\n",
            "/sys/fs/cgroup/memory/x/memory.limit_in_bytes",
            "9223372036854771712\n",
            "/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us",
            "-1\n",
            "/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us",
            "100000\n",
            "/sys/fs/cgroup/pids/x/pids.max",
            "max\n");
    Limits l = Limits.read(42, layout, f -> files.getOrDefault(f, ""));
    assertThat(l.memoryBytes()).isZero();
    assertThat(l.cpuCores()).isZero();
    assertThat(l.pids()).isZero();
  }

  @Test
  void readsV2Limits() {
    CgroupLayout layout =
        new CgroupLayout(Map.of(), "/sys/fs/cgroup", Set.of("memory", "pids", "cpu"));
    Map<String, String> files =
        Map.of(
            "/proc/7/cgroup",
            "0::/kavach/kv-2\n",
            "/sys/fs/cgroup/kavach/kv-2/memory.max",
            "134217728\n",
            "/sys/fs/cgroup/kavach/kv-2/memory.events",
            "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
            "/sys/fs/cgroup/kavach/kv-2/cpu.max",
            "25000 100000\n",
            "/sys/fs/cgroup/kavach/kv-2/pids.max",
            "max\n");
    Limits l = Limits.read(7, layout, f -> files.getOrDefault(f, ""));
    assertThat(l.memoryBytes()).isEqualTo(128L << 20);
    assertThat(l.cpuCores()).isEqualTo(0.25);
    assertThat(l.pids()).isZero();
    assertThat(l.oomKills()).isEqualTo(1);
  }

  @Test
  void parsesTheHardNofileLimit() {
    String limits =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max processes             96365                96365                processes \n"
            + "Max open files            1024                 20000                files     \n";
    assertThat(Limits.parseHardNofile(limits)).isEqualTo(20000);
    assertThat(Limits.parseHardNofile("")).isEqualTo(1024);
  }
}
