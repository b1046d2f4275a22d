package dev.kavach.internal.container;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * What {@code kavach-agent-oci probe} saw from inside the container, run through the same exec path
 * as every command: the process's ids, the security lines of {@code /proc/self/status}, the network
 * interfaces, whether the root is read-only, and the image's tier file.
 *
 * @param uid real uid, -1 if not reported
 * @param euid effective uid, -1 if not reported
 * @param noNewPrivs {@code NoNewPrivs} of /proc/self/status; empty where the kernel does not show
 *     it (gVisor)
 * @param nnpPrctl {@code prctl(PR_GET_NO_NEW_PRIVS)}, -1 if not reported
 * @param seccompMode {@code Seccomp} of /proc/self/status (2 = filter), -1 if not shown
 * @param seccompPrctl {@code prctl(PR_GET_SECCOMP)}, -1 if not reported
 * @param capabilitySets the five {@code Cap*} masks in the order inheritable, permitted, effective,
 *     bounding, ambient; a missing line is -1
 * @param interfaces network interface names from /proc/net/dev
 * @param rootReadOnly whether {@code statvfs("/")} reports a read-only mount
 * @param landlockAbi the Landlock ABI the kernel offers (0 for none)
 * @param nofile RLIMIT_NOFILE hard limit, -1 if not reported
 * @param fileSizeLimit RLIMIT_FSIZE hard limit in bytes, 0 if unlimited or not reported
 * @param release the content of {@code /etc/sy-agnos-release}, if the file exists
 * @param init the command name of pid 1 as the process sees it ({@code kavach-agent-oci} in a pid
 *     namespace of the container's own)
 * @param hostname the host name the process sees
 */
public record InsideFacts(
    int uid,
    int euid,
    OptionalInt noNewPrivs,
    int nnpPrctl,
    int seccompMode,
    int seccompPrctl,
    Map<String, Long> capabilitySets,
    List<String> interfaces,
    boolean rootReadOnly,
    int landlockAbi,
    long nofile,
    long fileSizeLimit,
    Optional<String> release,
    String init,
    String hostname) {

  private static final List<String> CAP_KEYS =
      List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb");
  private static final List<String> REQUIRED_CAPS = List.of("CapInh", "CapPrm", "CapEff", "CapBnd");

  /** Copies the lists. */
  public InsideFacts {
    capabilitySets = Collections.unmodifiableMap(new TreeMap<>(capabilitySets));
    interfaces = List.copyOf(interfaces);
  }

  /**
   * Whether the inheritable, permitted, effective and bounding sets were reported and every
   * reported set is empty. The ambient set may be missing (gVisor): it is always a subset of
   * permitted and inheritable, so with those empty it is empty too.
   */
  public boolean noCapabilities() {
    return capabilitySets.keySet().containsAll(REQUIRED_CAPS)
        && capabilitySets.values().stream().allMatch(c -> c == 0L);
  }

  /** Whether no_new_privs was confirmed, by /proc or by prctl. */
  public boolean noNewPrivsConfirmed() {
    return noNewPrivs.orElse(0) == 1 || nnpPrctl == 1;
  }

  /** Whether a seccomp filter was confirmed, by /proc or by prctl. */
  public boolean seccompFilterConfirmed() {
    return seccompMode == 2 || seccompPrctl == 2;
  }

  /** Whether the only network interface is loopback (or there is none at all). */
  public boolean onlyLoopback() {
    return interfaces.stream().allMatch(i -> i.equals("lo"));
  }

  /** Parses the probe's "key value" lines. Unknown keys are ignored. */
  public static InsideFacts parse(String text) {
    int uid = -1;
    int euid = -1;
    OptionalInt nnp = OptionalInt.empty();
    int nnpPrctl = -1;
    int seccomp = -1;
    int seccompPrctl = -1;
    Map<String, Long> caps = new TreeMap<>();
    List<String> ifaces = new ArrayList<>();
    boolean ro = false;
    int landlock = 0;
    long nofile = -1;
    long fsize = 0;
    Optional<String> release = Optional.empty();
    String init = "";
    String hostname = "";
    for (String line : text.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 2) {
        continue;
      }
      switch (f[0]) {
        case "uid" -> {
          uid = parseInt(f[1]);
          euid = f.length > 2 ? parseInt(f[2]) : -1;
        }
        case "NoNewPrivs" -> nnp = OptionalInt.of(parseInt(f[1]));
        case "nnp-prctl" -> nnpPrctl = parseInt(f[1]);
        case "Seccomp" -> seccomp = parseInt(f[1]);
        case "seccomp-prctl" -> seccompPrctl = parseInt(f[1]);
        case "netif" -> ifaces.add(f[1]);
        case "root-readonly" -> ro = f[1].equals("1");
        case "landlock-abi" -> landlock = parseInt(f[1]);
        case "nofile" -> nofile = f.length > 2 ? parseLong(f[2]) : -1;
        // RLIM_INFINITY prints as 2^64-1, which is no limit.
        case "fsize" -> fsize = f.length > 2 ? Math.max(0, parseLong(f[2])) : 0;
        case "release" -> release = Optional.of(decodeHex(f[1]));
        case "init" -> init = f[1];
        case "hostname" -> hostname = f[1];
        default -> {
          if (CAP_KEYS.contains(f[0])) {
            caps.put(f[0], parseHex(f[1]));
          }
        }
      }
    }
    return new InsideFacts(
        uid,
        euid,
        nnp,
        nnpPrctl,
        seccomp,
        seccompPrctl,
        caps,
        ifaces,
        ro,
        landlock,
        nofile,
        fsize,
        release,
        init,
        hostname);
  }

  private static String decodeHex(String hex) {
    try {
      return new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  private static long parseHex(String s) {
    try {
      return Long.parseUnsignedLong(s, 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
