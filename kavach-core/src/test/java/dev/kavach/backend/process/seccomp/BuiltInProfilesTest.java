package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kavach.policy.SandboxPolicy;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What the shipped profiles promise, checked on the data. The compiled programs are checked in
 * {@link SeccompCompilerTest}, real processes in {@link SeccompEnforcementTest}.
 */
class BuiltInProfilesTest {
  private static final SeccompProfile BASIC = SeccompProfile.builtIn("basic");
  private static final SeccompProfile STRICT = SeccompProfile.builtIn("strict");
  private static final long[] NO_ARGS = new long[6];

  /** The Rust crate's whole denylist. */
  static final List<String> RUST_BLOCKED =
      List.of(
          "ptrace",
          "mount",
          "umount2",
          "reboot",
          "kexec_load",
          "init_module",
          "delete_module",
          "pivot_root",
          "swapon",
          "swapoff",
          "acct",
          "settimeofday",
          "sethostname",
          "setdomainname");

  /** What the issue asks basic to refuse outright. */
  static final List<String> MUST_REFUSE =
      List.of(
          "unshare",
          "setns",
          "mount",
          "umount2",
          "open_tree",
          "move_mount",
          "fsopen",
          "fsconfig",
          "fsmount",
          "fspick",
          "mount_setattr",
          "pivot_root",
          "chroot",
          "bpf",
          "perf_event_open",
          "userfaultfd",
          "keyctl",
          "add_key",
          "request_key",
          "kexec_load",
          "kexec_file_load",
          "init_module",
          "finit_module",
          "delete_module",
          "io_uring_setup",
          "io_uring_enter",
          "io_uring_register",
          "process_vm_readv",
          "process_vm_writev",
          "ptrace",
          "open_by_handle_at",
          "name_to_handle_at",
          "iopl",
          "ioperm",
          "syslog",
          "swapon",
          "swapoff",
          "reboot",
          "acct",
          "quotactl",
          "lookup_dcookie",
          "uselib",
          "nfsservctl",
          "settimeofday",
          "clock_settime",
          "adjtimex",
          "sethostname",
          "setdomainname",
          "kcmp",
          "fanotify_init",
          "clone3");

  @Test
  void basicRefusesFarMoreThanTheRustCrate() {
    for (String s : MUST_REFUSE) {
      assertThat(BASIC.decide(s, NO_ARGS, false).runs()).as(s).isFalse();
    }
    assertThat(RUST_BLOCKED)
        .allSatisfy(s -> assertThat(BASIC.decide(s, NO_ARGS, false).runs()).as(s).isFalse());
    long refused =
        BASIC.syscallNames().stream().filter(s -> !BASIC.decide(s, NO_ARGS, false).runs()).count();
    assertThat(refused).isGreaterThanOrEqualTo(4L * RUST_BLOCKED.size());
  }

  @Test
  void basicAllowsWhatItDoesNotName() {
    for (String s :
        List.of(
            "read",
            "openat",
            "execve",
            "mmap",
            "futex",
            "socket",
            "ioctl",
            "clone",
            "personality")) {
      assertThat(BASIC.decide(s, NO_ARGS, false)).as(s).isEqualTo(SeccompAction.allow());
    }
    assertThat(BASIC.unknownAction()).isEqualTo(SeccompAction.errno("ENOSYS"));
  }

  @Test
  void strictIsDefaultDenyAndKeepsEveryRefusalOfBasic() {
    assertThat(STRICT.defaultAction()).isEqualTo(SeccompAction.errno("ENOSYS"));
    for (SyscallRule rule : BASIC.rules()) {
      assertThat(STRICT.rule(rule.names().get(0))).as(rule.names().toString()).isEqualTo(rule);
    }
    // Calls neither profile names are refused by strict's default.
    for (String s :
        List.of("lsm_set_self_attr", "memfd_secret", "mbind", "statmount", "uretprobe")) {
      assertThat(STRICT.decide(s, NO_ARGS, false)).as(s).isEqualTo(SeccompAction.errno("ENOSYS"));
    }
  }

  /**
   * The union of the system calls strace saw (glibc 2.36, Debian 12) for {@code sh -c} with ls,
   * cat, echo, cp, mkdir, rm, head, wc, env and id, {@code python3 -c 'print(1)'}, and {@code java
   * -version} on Java 17 and 25. Live runs are in {@link SeccompEnforcementTest}; this catches a
   * removal from the data without a sandbox.
   */
  @Test
  void strictAllowsWhatOrdinaryProgramsCall() {
    Set<String> seen =
        new TreeSet<>(
            List.of(
                "access",
                "arch_prctl",
                "brk",
                "chdir",
                "clock_getres",
                "clock_gettime",
                "clock_nanosleep",
                "close",
                "connect",
                "copy_file_range",
                "execve",
                "exit",
                "exit_group",
                "fadvise64",
                "fchdir",
                "fcntl",
                "flock",
                "fstat",
                "fstatfs",
                "ftruncate",
                "futex",
                "getcwd",
                "getdents64",
                "getegid",
                "geteuid",
                "getgid",
                "getgroups",
                "getpid",
                "getppid",
                "getrandom",
                "getrusage",
                "gettid",
                "getuid",
                "ioctl",
                "lseek",
                "lstat",
                "madvise",
                "mkdir",
                "mmap",
                "mprotect",
                "munmap",
                "newfstatat",
                "openat",
                "prctl",
                "pread64",
                "prlimit64",
                "read",
                "readlink",
                "rseq",
                "rt_sigaction",
                "rt_sigprocmask",
                "rt_sigreturn",
                "sched_getaffinity",
                "sched_yield",
                "set_robust_list",
                "set_tid_address",
                "socket",
                "stat",
                "statfs",
                "statx",
                "sysinfo",
                "umask",
                "uname",
                "unlink",
                "unlinkat",
                "vfork",
                "wait4",
                "write",
                "clone"));
    for (String s : seen) {
      long[] args = s.equals("socket") ? new long[] {1, 1, 0, 0, 0, 0} : NO_ARGS; // AF_UNIX
      assertThat(STRICT.decide(s, args, true).runs()).as(s).isTrue();
    }
    // clone3 is the one they call that strict answers ENOSYS, so glibc falls back to clone.
    assertThat(STRICT.decide("clone3", NO_ARGS, true)).isEqualTo(SeccompAction.errno("ENOSYS"));
  }

  @Test
  void thePolicyKnowsTheSameBuiltInNames() {
    assertThat(SandboxPolicy.BUILT_IN_SECCOMP_PROFILES).isEqualTo(SeccompProfile.BUILT_IN);
  }

  @Test
  void everyRuleAndCaseSaysWhy() {
    for (SeccompProfile p : List.of(BASIC, STRICT)) {
      assertThat(p.description()).isNotBlank();
      for (SyscallRule r : p.rules()) {
        assertThat(r.why()).as(p.name() + " " + r.names()).isNotBlank();
        for (ArgCase c : r.cases()) {
          assertThat(c.why()).as(p.name() + " " + r.names() + " case " + c).isNotBlank();
        }
      }
    }
  }
}
