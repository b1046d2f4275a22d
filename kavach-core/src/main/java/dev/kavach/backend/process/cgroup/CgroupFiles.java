package dev.kavach.backend.process.cgroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parsers of cgroup control files, v1 and v2. Pure, so each format is tested on fixture strings.
 * The names of the files kavach reads and writes are here too, so a reader finds the whole
 * vocabulary in one place.
 */
final class CgroupFiles {
  static final String PROCS = "cgroup.procs";
  static final String V2_EVENTS = "cgroup.events";
  static final String V2_KILL = "cgroup.kill";
  static final String V2_FREEZE = "cgroup.freeze";
  static final String V2_CONTROLLERS = "cgroup.controllers";
  static final String V2_SUBTREE_CONTROL = "cgroup.subtree_control";
  static final String V1_FREEZER_STATE = "freezer.state";
  static final String V1_USE_HIERARCHY = "memory.use_hierarchy";
  static final String V1_MEMORY_LIMIT = "memory.limit_in_bytes";
  static final String V1_MEMSW_LIMIT = "memory.memsw.limit_in_bytes";
  static final String V1_OOM_CONTROL = "memory.oom_control";
  static final String V1_MEMORY_PEAK = "memory.max_usage_in_bytes";
  static final String V1_CPU_PERIOD = "cpu.cfs_period_us";
  static final String V1_CPU_QUOTA = "cpu.cfs_quota_us";
  static final String V1_CPU_USAGE = "cpuacct.usage";
  static final String V2_MEMORY_MAX = "memory.max";
  static final String V2_SWAP_MAX = "memory.swap.max";
  static final String V2_MEMORY_EVENTS = "memory.events";
  static final String V2_MEMORY_PEAK = "memory.peak";
  static final String V2_CPU_MAX = "cpu.max";
  static final String V2_CPU_STAT = "cpu.stat";
  static final String PIDS_MAX = "pids.max";
  static final String PIDS_PEAK = "pids.peak";
  static final String PIDS_EVENTS = "pids.events";

  // v1 reports "no memory limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages);
  // anything this large is no limit on any page size.
  private static final long V1_UNLIMITED_THRESHOLD = 1L << 62;

  private CgroupFiles() {}

  /**
   * Parses a flat keyed file ("key value" per line): {@code memory.events}, {@code cpu.stat},
   * {@code memory.stat}, {@code memory.oom_control}, {@code pids.events}, {@code cgroup.events}.
   * Lines whose value is not an integer are skipped.
   */
  static Map<String, Long> keyed(String text) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2) {
        try {
          out.put(f[0], Long.parseLong(f[1]));
        } catch (NumberFormatException e) {
          // A value of another shape (for example "max") is not a counter.
        }
      }
    }
    return out;
  }

  /** A counter of a keyed file, or -1 when the key is absent. */
  static long counter(String keyedText, String key) {
    return keyed(keyedText).getOrDefault(key, -1L);
  }

  /**
   * A limit file: {@code memory.max}, {@code pids.max} ({@code max} or a number) or v1 {@code
   * memory.limit_in_bytes}. Returns 0 for "no limit", matching {@link CgroupLimits}.
   */
  static long limit(String text) {
    String t = text.trim();
    if (t.equals("max")) {
      return 0;
    }
    long v = Long.parseLong(t);
    return v >= V1_UNLIMITED_THRESHOLD || v < 0 ? 0 : v;
  }

  /** Cores allowed by a v2 {@code cpu.max} ("25000 100000" or "max 100000"), 0 for none. */
  static double cpuMax(String text) {
    String[] f = text.trim().split("\\s+");
    if (f[0].equals("max")) {
      return 0;
    }
    long period = f.length > 1 ? Long.parseLong(f[1]) : CgroupLimits.CPU_PERIOD_MICROS;
    return cores(Long.parseLong(f[0]), period);
  }

  /** The v2 {@code cpu.max} value for a quota over kavach's period. */
  static String cpuMaxValue(long quotaMicros) {
    return quotaMicros + " " + CgroupLimits.CPU_PERIOD_MICROS;
  }

  /** Cores allowed by a v1 quota and period in microseconds (a quota of -1 is none). */
  static double cores(long quotaMicros, long periodMicros) {
    if (quotaMicros <= 0 || periodMicros <= 0) {
      return 0;
    }
    return (double) quotaMicros / periodMicros;
  }

  /** Process ids in a {@code cgroup.procs} file, one per line. */
  static List<Long> pids(String procs) {
    List<Long> out = new ArrayList<>();
    for (String line : procs.split("\n")) {
      String t = line.trim();
      if (!t.isEmpty()) {
        out.add(Long.parseLong(t));
      }
    }
    return out;
  }

  /** CPU time in nanoseconds from v2 {@code cpu.stat} ({@code usage_usec}), or -1. */
  static long cpuStatNanos(String cpuStat) {
    long us = counter(cpuStat, "usage_usec");
    return us < 0 ? -1 : Math.multiplyExact(us, 1000L);
  }

  /** CPU time in nanoseconds from v1 {@code cpuacct.usage}. */
  static long cpuacctNanos(String cpuacctUsage) {
    return Long.parseLong(cpuacctUsage.trim());
  }

  /** OOM kills counted in v1 {@code memory.oom_control} or v2 {@code memory.events}, or -1. */
  static long oomKills(String oomControlOrMemoryEvents) {
    return counter(oomControlOrMemoryEvents, "oom_kill");
  }

  /** Whether a v2 {@code cgroup.events} says no process is left in the subtree. */
  static boolean unpopulated(String cgroupEvents) {
    return counter(cgroupEvents, "populated") == 0;
  }

  /** Whether a v2 {@code cgroup.events} says the whole subtree is frozen. */
  static boolean frozen(String cgroupEvents) {
    return counter(cgroupEvents, "frozen") == 1;
  }

  /** Controllers listed in {@code cgroup.controllers} or {@code cgroup.subtree_control}. */
  static List<String> controllers(String text) {
    String t = text.trim();
    return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
  }

  /**
   * Whether swap can be in use, from {@code /proc/swaps} (a header line, then one line per active
   * swap area).
   */
  static boolean swapActive(String procSwaps) {
    return procSwaps.lines().skip(1).anyMatch(l -> !l.isBlank());
  }
}
