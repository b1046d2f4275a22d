package dev.kavach.backend.process.seccomp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The probes of {@code probe.py} and what each must give under the built-in profiles, shared by the
 * tests that run them in bwrap (compiled filter) and in runc (OCI export).
 */
final class Probes {
  static final String KILLED = "killed:SIGSYS";

  /**
   * What each probe must give under basic and strict with an isolated network. "host" means
   * whatever the kernel answers without the filter.
   */
  private static final Map<String, String[]> EXPECTED = new LinkedHashMap<>();

  /** Probes whose filtered answer is also the kernel's own (allowed calls, ENOSYS numbers). */
  static final Set<String> SAME_WITHOUT_FILTER =
      Set.of(
          "threads_and_fork",
          "clone_plain",
          "personality_query",
          "tcgets",
          "socket_unix",
          "socket_netlink_route",
          "socket_inet",
          "socket_inet6",
          "unknown_number");

  /**
   * Probes the kernel answers differently without the filter even when the process has no
   * capabilities at all: proof that a filter is in force wherever they run.
   */
  static final Set<String> UNPRIVILEGED_TELLS =
      Set.of(
          "clone3",
          "setns",
          "ptrace_traceme",
          "process_vm_readv",
          "pidfd_getfd",
          "kcmp",
          "io_uring_setup",
          "keyctl",
          "add_key",
          "bpf",
          "perf_event_open",
          "userfaultfd",
          "personality_no_aslr",
          "tiocsti",
          "tiocsti_high_bits",
          "tioclinux");

  static {
    expect("threads_and_fork", "ok", "ok");
    expect("unshare_user", "EPERM", "EPERM");
    expect("unshare_net", "EPERM", "EPERM");
    expect("clone_newuser", "EPERM", "EPERM");
    expect("clone_newns", "EPERM", "EPERM");
    expect("clone_plain", "ok", "ok");
    expect("clone3", "ENOSYS", "ENOSYS");
    expect("setns", "EPERM", "EPERM");
    expect("mount", "EPERM", "EPERM");
    expect("chroot", "EPERM", "EPERM");
    expect("open_tree", "EPERM", "EPERM");
    expect("fsopen", "EPERM", "EPERM");
    expect("sethostname", "EPERM", "EPERM");
    expect("ptrace_traceme", "EPERM", "EPERM");
    expect("process_vm_readv", "EPERM", "EPERM");
    expect("pidfd_getfd", "EPERM", "EPERM");
    expect("kcmp", "EPERM", "EPERM");
    expect("io_uring_setup", "EPERM", "EPERM");
    expect("keyctl", "EPERM", "EPERM");
    expect("add_key", "EPERM", "EPERM");
    expect("bpf", "EPERM", "EPERM");
    expect("perf_event_open", "EPERM", "EPERM");
    expect("userfaultfd", "EPERM", "EPERM");
    expect("personality_no_aslr", "EPERM", "EPERM");
    expect("personality_query", "ok", "ok");
    expect("tiocsti", "EPERM", "EPERM");
    expect("tiocsti_high_bits", "EPERM", "EPERM");
    expect("tioclinux", "EPERM", "EPERM");
    expect("tcgets", "ENOTTY", "ENOTTY");
    expect("socket_unix", "ok", "ok");
    expect("socket_netlink_route", "ok", "ok");
    expect("socket_inet", "ok", "ok"); // loopback only: the namespace is the isolation
    expect("socket_inet6", "ok", "ok");
    expect("socket_packet", "EAFNOSUPPORT", "EAFNOSUPPORT");
    expect("socket_vsock", "EAFNOSUPPORT", "EAFNOSUPPORT");
    expect("default_deny", "host", "ENOSYS"); // a call strict does not list
    expect("unknown_number", "ENOSYS", "ENOSYS");
    expect("fatal_x32_getpid", KILLED, KILLED);
    expect("fatal_i386_getpid", KILLED, KILLED);
  }

  private static void expect(String probe, String basic, String strict) {
    EXPECTED.put(probe, new String[] {basic, strict});
  }

  private Probes() {}

  /** Copies {@code probe.py} into a directory. */
  static void install(Path dir) throws IOException {
    try (InputStream in = Probes.class.getResourceAsStream("probe.py")) {
      Files.write(dir.resolve("probe.py"), in.readAllBytes());
    }
  }

  /** The arguments after the script: this machine's system call numbers, then the probes. */
  static List<String> arguments() throws JsonProcessingException {
    Map<String, Object> nr = new LinkedHashMap<>();
    SyscallTable table = Arch.host().syscalls();
    table.byNumber().forEach((n, name) -> nr.put(name, n));
    nr.put("__max", table.maxNumber());
    List<String> args = new ArrayList<>(List.of(new ObjectMapper().writeValueAsString(nr)));
    for (String p : EXPECTED.keySet()) {
      if (!p.startsWith("fatal_") || Arch.host() == Arch.X86_64) { // x32 and int 0x80: x86 only
        args.add(p);
      }
    }
    return args;
  }

  /** The "probe result" lines of a run. */
  static Map<String, String> parse(String stdout) {
    Map<String, String> results = new LinkedHashMap<>();
    for (String line : stdout.split("\n")) {
      String[] f = line.strip().split(" ", 2);
      if (f.length == 2) {
        results.put(f[0], f[1]);
      }
    }
    return results;
  }

  /** What a probe must give under a built-in profile with an isolated network. */
  static String expected(String profile, String probe, Map<String, String> host) {
    String want = EXPECTED.get(probe)[profile.equals("basic") ? 0 : 1];
    return want.equals("host") ? host.get(probe) : want;
  }

  /** Whether the expectation is a fixed answer rather than the host's. */
  static boolean fixed(String profile, String probe) {
    return !EXPECTED.get(probe)[profile.equals("basic") ? 0 : 1].equals("host");
  }
}
