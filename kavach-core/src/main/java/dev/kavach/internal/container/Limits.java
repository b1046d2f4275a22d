package dev.kavach.internal.container;

import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.ProcCgroup;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The limits a container's cgroup actually has, read from the host's cgroup files of the
 * container's first process (on v1 hierarchies, or v2 where it has the controller). This is the
 * kernel's word, not the runtime's: a runtime that ignored a limit shows here as unlimited.
 *
 * @param memoryBytes memory limit, 0 when unlimited or unknown
 * @param cpuQuotaUs CFS quota per period, 0 when unlimited or unknown
 * @param cpuPeriodUs CFS period
 * @param pids process limit, 0 when unlimited or unknown
 * @param oomKills how many times the memory limit killed a process in this cgroup
 * @param memoryControl the file holding {@code oomKills}, or empty when there is no memory cgroup
 */
public record Limits(
    long memoryBytes,
    long cpuQuotaUs,
    long cpuPeriodUs,
    int pids,
    long oomKills,
    Optional<String> memoryControl) {

  // Anything at or above this is the kernel's "unlimited" on v1 (PAGE_COUNTER_MAX rounded).
  private static final long V1_UNLIMITED = 1L << 62;

  /** No limits known. */
  public static Limits none() {
    return new Limits(0, 0, 0, 0, 0, Optional.empty());
  }

  /** The CPU quota in cores, 0 when none. */
  public double cpuCores() {
    return cpuQuotaUs <= 0 || cpuPeriodUs <= 0 ? 0 : (double) cpuQuotaUs / cpuPeriodUs;
  }

  /**
   * Reads the limits of the cgroups process {@code pid} is in.
   *
   * @param read reads a file, returning "" when it is missing
   */
  public static Limits read(long pid, CgroupLayout layout, UnaryOperator<String> read) {
    Map<String, String> groups = ProcCgroup.parse(read.apply("/proc/" + pid + "/cgroup"));
    long mem = 0;
    long oom = 0;
    Optional<String> memFile = Optional.empty();
    Optional<String> memDir = dir(layout, groups, "memory");
    if (memDir.isPresent()) {
      boolean v2 = layout.versionOf("memory").orElse("").equals("v2");
      String limit = read.apply(memDir.get() + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
      mem = parseLimit(limit);
      String events = memDir.get() + (v2 ? "/memory.events" : "/memory.oom_control");
      memFile = Optional.of(events);
      oom = parseOomKills(read.apply(events));
    }
    long quota = 0;
    long period = 0;
    Optional<String> cpuDir = dir(layout, groups, "cpu");
    if (cpuDir.isPresent()) {
      if (layout.versionOf("cpu").orElse("").equals("v2")) {
        String[] f = read.apply(cpuDir.get() + "/cpu.max").trim().split("\\s+");
        if (f.length == 2 && !f[0].equals("max")) {
          quota = parseLong(f[0]);
          period = parseLong(f[1]);
        }
      } else {
        quota = Math.max(0, parseLong(read.apply(cpuDir.get() + "/cpu.cfs_quota_us").trim()));
        period = parseLong(read.apply(cpuDir.get() + "/cpu.cfs_period_us").trim());
      }
    }
    int pids = 0;
    Optional<String> pidsDir = dir(layout, groups, "pids");
    if (pidsDir.isPresent()) {
      pids = (int) Math.min(Integer.MAX_VALUE, parseLimit(read.apply(pidsDir.get() + "/pids.max")));
    }
    return new Limits(mem, quota, period, pids, oom, memFile);
  }

  /** The number of OOM kills in {@code memory.oom_control} (v1) or {@code memory.events} (v2). */
  public static long parseOomKills(String text) {
    for (String line : text.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2 && f[0].equals("oom_kill")) {
        return parseLong(f[1]);
      }
    }
    return 0;
  }

  /** The hard limit on line "Max open files" of {@code /proc/<pid>/limits}; 1024 if unknown. */
  public static long parseHardNofile(String procLimits) {
    for (String line : procLimits.split("\n")) {
      if (line.startsWith("Max open files")) {
        String[] f = line.substring("Max open files".length()).trim().split("\\s+");
        if (f.length >= 2) {
          return f[1].equals("unlimited") ? Long.MAX_VALUE : parseLong(f[1]);
        }
      }
    }
    return 1024;
  }

  private static Optional<String> dir(
      CgroupLayout layout, Map<String, String> groups, String controller) {
    Optional<String> version = layout.versionOf(controller);
    if (version.isEmpty()) {
      return Optional.empty();
    }
    String mount = version.get().equals("v2") ? layout.v2Mount() : layout.v1().get(controller);
    String path = groups.get(version.get().equals("v2") ? "" : controller);
    if (mount == null || path == null) {
      return Optional.empty();
    }
    return Optional.of(path.equals("/") ? mount : mount + path);
  }

  // "max", an empty file or the v1 near-2^63 value all mean no limit.
  private static long parseLimit(String text) {
    String t = text.trim();
    if (t.isEmpty() || t.equals("max")) {
      return 0;
    }
    long v = parseLong(t);
    return v >= V1_UNLIMITED ? 0 : v;
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
