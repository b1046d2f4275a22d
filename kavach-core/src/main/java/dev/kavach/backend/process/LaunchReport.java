package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * What the launcher reported on its status channel: the controls it applied, a setup failure if
 * there was one, and how the command ended. Parsing is pure; the line grammar is in {@code
 * native/launcher/log.h}.
 *
 * @param namespaces namespaces created for the command
 * @param uid the command's host uid, -1 if not reported
 * @param readOnlyRoot whether the root of the view was made read-only and pivoted into
 * @param networkIsolated whether a new network namespace with only loopback was set up
 * @param capabilitiesDropped whether every capability set was emptied and verified
 * @param noNewPrivs whether no_new_privs was set
 * @param landlockAbi the Landlock ABI applied, 0 if none
 * @param landlockRules the number of Landlock rules
 * @param seccompProfile the seccomp filter installed, or null
 * @param fileSizeLimit RLIMIT_FSIZE set for the command in bytes, 0 if none was asked for
 * @param cgroups the cgroup.procs files joined
 * @param egressRelayPort the port the egress relay listens on inside the sandbox, 0 if none
 * @param ready whether every step succeeded and the command was started
 * @param failure the setup failure, if any: the command did not run
 * @param exitCode the command's exit status, if it exited
 * @param signal the signal that killed the command, if one did
 * @param initKilled the signal that killed the sandbox's init (timeout, stop, JVM death)
 */
record LaunchReport(
    Set<String> namespaces,
    int uid,
    boolean readOnlyRoot,
    boolean networkIsolated,
    boolean capabilitiesDropped,
    boolean noNewPrivs,
    int landlockAbi,
    int landlockRules,
    @Nullable String seccompProfile,
    long fileSizeLimit,
    List<String> cgroups,
    int egressRelayPort,
    boolean ready,
    Optional<Failure> failure,
    OptionalInt exitCode,
    OptionalInt signal,
    OptionalInt initKilled) {

  /**
   * A setup step that failed, with the host's reason.
   *
   * @param step the launcher step ({@code landlock}, {@code seccomp}, {@code cgroup}, ...)
   * @param errno the errno, 0 when none applies
   * @param message what failed, with the kernel's words
   */
  record Failure(String step, int errno, String message) {
    // Steps that are the launcher's own plumbing rather than an isolation control.
    private static final Set<String> PLUMBING =
        Set.of("options", "env", "secrets", "supervisor", "parent", "exec", "init", "clone");

    /** The exception that stops the exec: names the control and the host reason. */
    KavachException toException() {
      Reason reason = PLUMBING.contains(step) ? Reason.LAUNCH_FAILED : Reason.ENFORCEMENT_FAILED;
      return new KavachException(reason, step + ": " + message + errnoSuffix());
    }

    private String errnoSuffix() {
      return errno == 0 ? "" : " (errno " + errno + ")";
    }
  }

  /** Parses the status file. */
  static LaunchReport parse(String text) {
    Set<String> namespaces = new TreeSet<>();
    int uid = -1;
    boolean ro = false;
    boolean net = false;
    boolean caps = false;
    boolean nnp = false;
    int abi = 0;
    int rules = 0;
    String seccomp = null;
    long fsize = 0;
    List<String> cgroups = new ArrayList<>();
    int relay = 0;
    boolean ready = false;
    Failure failure = null;
    OptionalInt exit = OptionalInt.empty();
    OptionalInt signal = OptionalInt.empty();
    OptionalInt initKilled = OptionalInt.empty();
    for (String line : text.split("\n")) {
      String[] f = line.split(" ", -1);
      switch (f[0]) {
        case "namespaces" -> namespaces.addAll(List.of(f).subList(1, f.length));
        case "uid" -> uid = parseInt(f, 1);
        case "root" -> ro = f.length > 1 && f[1].equals("ro");
        case "net" -> net = f.length > 1 && f[1].equals("isolated");
        case "capabilities" -> caps = f.length > 1 && f[1].equals("dropped");
        case "no_new_privs" -> nnp = f.length > 1 && f[1].equals("1");
        case "landlock" -> {
          abi = parseInt(f, 1);
          rules = parseInt(f, 2);
        }
        case "seccomp" -> seccomp = f.length > 1 ? f[1] : null;
        case "rlimit" -> {
          if (f.length > 2 && f[1].equals("fsize")) {
            fsize = parseLong(f[2]);
          }
        }
        case "cgroup" -> cgroups.add(f.length > 1 ? f[1] : "");
        case "egress-relay" -> relay = parseInt(f, 1);
        case "ready" -> ready = true;
        case "exit" -> exit = OptionalInt.of(parseInt(f, 1));
        case "signal" -> signal = OptionalInt.of(parseInt(f, 1));
        case "init-killed" -> initKilled = OptionalInt.of(parseInt(f, 1));
        case "error" -> {
          // The first failure is the cause; later ones are consequences.
          if (failure == null && f.length >= 3) {
            String message = line.substring(f[0].length() + f[1].length() + f[2].length() + 3);
            failure = new Failure(f[1], parseInt(f, 2), message.strip());
          }
        }
        default -> {
          // Facts Java does not score (mounts, rlimits, securebits, ...) are kept in the file.
        }
      }
    }
    return new LaunchReport(
        namespaces,
        uid,
        ro,
        net,
        caps,
        nnp,
        abi,
        rules,
        seccomp,
        fsize,
        cgroups,
        relay,
        ready,
        Optional.ofNullable(failure),
        exit,
        signal,
        initKilled);
  }

  private static long parseLong(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static int parseInt(String[] f, int i) {
    try {
      return i < f.length ? Integer.parseInt(f[i]) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
