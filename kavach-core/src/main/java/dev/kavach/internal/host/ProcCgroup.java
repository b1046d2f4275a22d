package dev.kavach.internal.host;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parser of {@code /proc/<pid>/cgroup}: which cgroup a process is in, per hierarchy. */
public final class ProcCgroup {
  private ProcCgroup() {}

  /**
   * Maps each v1 controller (and {@code ""} for the v2 hierarchy, and {@code name=x} for named
   * hierarchies) to the process's cgroup path within it.
   */
  public static Map<String, String> parse(String procCgroup) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : procCgroup.split("\n")) {
      String[] f = line.trim().split(":", 3);
      if (f.length < 3) {
        continue;
      }
      if (f[1].isEmpty()) {
        out.put("", f[2]);
      } else {
        for (String c : f[1].split(",")) {
          out.put(c, f[2]);
        }
      }
    }
    return out;
  }
}
