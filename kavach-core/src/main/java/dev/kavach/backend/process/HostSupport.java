package dev.kavach.backend.process;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this host lets the process backend do, as measured by {@code kavach-launch --probe}: each
 * fact was tried for real (a Landlock ruleset ABI query, a clone into every namespace, seccomp's
 * action query), not inferred from a kernel version.
 *
 * @param launcherRuns whether the launcher could be extracted and run at all
 * @param failure why the launcher could not run, or empty
 * @param landlockAbi the kernel's Landlock ABI, 0 when Landlock is unavailable
 * @param landlockReason why Landlock is unavailable, or empty
 * @param namespaces whether user, PID, mount, IPC, UTS, cgroup and network namespaces can all be
 *     created by this JVM's user
 * @param namespacesReason why not, or empty
 * @param seccomp whether seccomp filters with errno and kill actions can be installed
 * @param seccompReason why not, or empty
 * @param euid the launcher's effective uid (the JVM's)
 * @param arch the machine ({@code uname -m})
 * @param kernel the kernel release
 */
public record HostSupport(
    boolean launcherRuns,
    String failure,
    int landlockAbi,
    String landlockReason,
    boolean namespaces,
    String namespacesReason,
    boolean seccomp,
    String seccompReason,
    int euid,
    String arch,
    String kernel) {

  /** A launcher that could not run: nothing is supported. */
  public static HostSupport failed(String why) {
    return new HostSupport(false, why, 0, why, false, why, false, why, -1, "", "");
  }

  /** Parses the {@code key=value} lines of {@code kavach-launch --probe}. */
  public static HostSupport parse(String probeOutput) {
    Map<String, String> kv = new LinkedHashMap<>();
    for (String line : probeOutput.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        kv.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
      }
    }
    if (!"1".equals(kv.get("launcher"))) {
      return failed("kavach-launch --probe printed no launcher=1 line: " + probeOutput.strip());
    }
    return new HostSupport(
        true,
        "",
        intOf(kv, "landlock_abi", 0),
        kv.getOrDefault("landlock_reason", ""),
        "1".equals(kv.get("namespaces")),
        kv.getOrDefault("namespaces_reason", ""),
        "1".equals(kv.get("seccomp")),
        kv.getOrDefault("seccomp_reason", ""),
        intOf(kv, "euid", -1),
        kv.getOrDefault("arch", ""),
        kv.getOrDefault("kernel", ""));
  }

  private static int intOf(Map<String, String> kv, String key, int fallback) {
    try {
      return Integer.parseInt(kv.getOrDefault(key, ""));
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  /** Whether the backend can run commands here. */
  public boolean usable() {
    return launcherRuns && namespaces;
  }

  /** Whether Landlock is available. */
  public boolean landlock() {
    return landlockAbi > 0;
  }

  /** Whether Landlock can restrict TCP ports (ABI 4 or later). */
  public boolean landlockPorts() {
    return landlockAbi >= 4;
  }

  /** One line for {@code kavach backends} and {@code kavach doctor}. */
  public String describe() {
    if (!launcherRuns) {
      return failure;
    }
    if (!namespaces) {
      return "cannot create namespaces: " + namespacesReason;
    }
    return "namespaces ok; Landlock "
        + (landlock() ? "ABI " + landlockAbi : "unavailable (" + landlockReason + ")")
        + "; seccomp "
        + (seccomp ? "filters ok" : "unavailable (" + seccompReason + ")")
        + "; "
        + (euid == 0 ? "root: commands run as an unprivileged uid" : "uid " + euid);
  }
}
