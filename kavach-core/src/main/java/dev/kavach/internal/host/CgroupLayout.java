package dev.kavach.internal.host;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where cgroup controllers live on this host. Hosts may be pure v2, pure v1, or hybrid: v1
 * hierarchies for some controllers and a v2 mount (often {@code /sys/fs/cgroup/unified}) that has
 * few or no controllers but still offers {@code cgroup.kill} and {@code cgroup.freeze}.
 *
 * @param v1 controller name to the mount point of its v1 hierarchy
 * @param v2Mount mount point of the cgroup2 hierarchy, or null
 * @param v2Controllers controllers enabled in the v2 root ({@code cgroup.controllers})
 */
public record CgroupLayout(
    Map<String, String> v1, @Nullable String v2Mount, Set<String> v2Controllers) {

  /** Controllers the kernel knows; anything else in the mount options is a mount flag. */
  static final Set<String> KNOWN_CONTROLLERS =
      Set.of(
          "cpu",
          "cpuacct",
          "cpuset",
          "memory",
          "devices",
          "freezer",
          "net_cls",
          "blkio",
          "perf_event",
          "net_prio",
          "hugetlb",
          "pids",
          "rdma",
          "misc",
          "io");

  /** Copies the collections. */
  public CgroupLayout {
    v1 = Map.copyOf(v1);
    v2Controllers = Set.copyOf(v2Controllers);
  }

  /**
   * Parses {@code /proc/mounts} (or {@code /proc/self/mounts}). {@code v2Controllers} is filled by
   * {@link #withV2Controllers}, since it lives in a file of the v2 hierarchy.
   */
  public static CgroupLayout parseMounts(String procMounts) {
    Map<String, String> v1 = new LinkedHashMap<>();
    String v2 = null;
    for (String line : procMounts.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 4) {
        continue;
      }
      String mountPoint = unescape(f[1]);
      if (f[2].equals("cgroup2")) {
        if (v2 == null) {
          v2 = mountPoint;
        }
      } else if (f[2].equals("cgroup")) {
        for (String opt : f[3].split(",")) {
          if (KNOWN_CONTROLLERS.contains(opt)) {
            v1.putIfAbsent(opt, mountPoint);
          }
        }
      }
    }
    return new CgroupLayout(v1, v2, Set.of());
  }

  /** The same layout with the v2 root's controllers parsed from {@code cgroup.controllers}. */
  public CgroupLayout withV2Controllers(String cgroupControllers) {
    String trimmed = cgroupControllers.trim();
    Set<String> set = trimmed.isEmpty() ? Set.of() : Set.of(trimmed.split("\\s+"));
    return new CgroupLayout(v1, v2Mount, set);
  }

  /** Where a controller can be used: {@code v2}, {@code v1} or empty if nowhere. */
  public Optional<String> versionOf(String controller) {
    if (v2Controllers.contains(controller)) {
      return Optional.of("v2");
    }
    if (v1.containsKey(controller)) {
      return Optional.of("v1");
    }
    return Optional.empty();
  }

  /** {@code v2} if the v2 hierarchy has every listed controller, {@code hybrid} or {@code v1}. */
  public String mode() {
    if (v2Mount != null && v1.isEmpty()) {
      return "v2";
    }
    if (v2Mount != null) {
      return "hybrid";
    }
    return v1.isEmpty() ? "none" : "v1";
  }

  /** Whether the limits kavach uses (memory, pids, cpu) are all available somewhere. */
  public boolean hasLimitControllers() {
    return List.of("memory", "pids", "cpu").stream().allMatch(c -> versionOf(c).isPresent());
  }

  // /proc/mounts escapes space, tab, newline and backslash as octal.
  private static String unescape(String s) {
    return s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }
}
