package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.internal.exec.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SyscallTableTest {
  private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+__NR_(\\w+)\\s+(\\S+)");

  /** Names our tables have that linux-libc-dev 6.1's headers predate (see the tables' comments). */
  private static final Set<String> NEWER_THAN_HEADER = Set.of("uretprobe", "uprobe");

  @Test
  void x86_64TableMatchesTheMachinesHeader() throws IOException {
    Path header =
        firstExisting(
            "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h");
    Map<String, Integer> defined = new LinkedHashMap<>();
    Matcher m = DEFINE.matcher(Files.readString(header));
    while (m.find()) {
      defined.put(m.group(1), Integer.parseInt(m.group(2)));
    }
    assertThat(defined).hasSizeGreaterThan(300);
    compare(SyscallTable.of(Arch.X86_64), defined);
  }

  @Test
  @Timeout(60)
  void aarch64TableMatchesTheGenericHeaderAsArm64ConfiguresIt() {
    Path header = Path.of("/usr/include/asm-generic/unistd.h");
    HostTools.require(Files.isRegularFile(header), "no " + header + " (package linux-libc-dev)");
    HostTools.require(
        Files.isExecutable(Path.of("/usr/bin/gcc")), "no gcc to preprocess " + header);
    // arm64's uapi asm/unistd.h defines these before including the generic table.
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(
                        "/usr/bin/gcc",
                        "-E",
                        "-dM",
                        "-D__ARCH_WANT_RENAMEAT",
                        "-D__ARCH_WANT_NEW_STAT",
                        "-D__ARCH_WANT_SET_GET_RLIMIT",
                        "-D__ARCH_WANT_TIME32_SYSCALLS",
                        "-D__ARCH_WANT_SYS_CLONE3",
                        "-D__ARCH_WANT_MEMFD_SECRET",
                        "-include",
                        "asm-generic/unistd.h",
                        "-x",
                        "c",
                        "/dev/null"))
                .timeout(Duration.ofSeconds(30))
                .build());
    assertThat(r.exitValue()).as(r.stderrText()).isZero();
    Map<String, String> raw = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile("(?m)^#define\\s+(__NR3264_\\w+|__NR_\\w+)\\s+(\\S+)")
            .matcher(r.stdoutText());
    while (m.find()) {
      raw.put(m.group(1), m.group(2));
    }
    Map<String, Integer> defined = new LinkedHashMap<>();
    raw.forEach(
        (k, v) -> {
          if (!k.startsWith("__NR_")
              || k.equals("__NR_syscalls")
              || k.equals("__NR_arch_specific_syscall")) {
            return;
          }
          String value = v;
          while (raw.containsKey(value)) {
            value = raw.get(value); // __NR_fcntl -> __NR3264_fcntl -> 25
          }
          defined.put(k.substring("__NR_".length()), Integer.parseInt(value));
        });
    assertThat(defined).hasSizeGreaterThan(290);
    compare(SyscallTable.of(Arch.AARCH64), defined);
  }

  private static void compare(SyscallTable table, Map<String, Integer> header) {
    int headerMax = header.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
    header.forEach(
        (name, nr) ->
            assertThat(table.number(name))
                .as("%s %s in the header", table.arch().id(), name)
                .hasValue(nr));
    table
        .byNumber()
        .forEach(
            (nr, name) -> {
              if (!header.containsKey(name)) {
                assertThat(nr > headerMax || NEWER_THAN_HEADER.contains(name))
                    .as(
                        "%s %s=%d is neither in the header nor newer than it",
                        table.arch().id(), name, nr)
                    .isTrue();
              }
            });
  }

  @Test
  void bothTablesHaveTheModernSystemCalls() {
    Map<String, Integer> modern = new LinkedHashMap<>();
    modern.put("pidfd_send_signal", 424);
    modern.put("io_uring_setup", 425);
    modern.put("io_uring_enter", 426);
    modern.put("io_uring_register", 427);
    modern.put("open_tree", 428);
    modern.put("move_mount", 429);
    modern.put("fsopen", 430);
    modern.put("fsconfig", 431);
    modern.put("fsmount", 432);
    modern.put("fspick", 433);
    modern.put("pidfd_open", 434);
    modern.put("clone3", 435);
    modern.put("close_range", 436);
    modern.put("openat2", 437);
    modern.put("pidfd_getfd", 438);
    modern.put("faccessat2", 439);
    modern.put("mount_setattr", 442);
    modern.put("landlock_create_ruleset", 444);
    modern.put("landlock_add_rule", 445);
    modern.put("landlock_restrict_self", 446);
    modern.put("memfd_secret", 447);
    modern.put("futex_waitv", 449);
    modern.put("cachestat", 451);
    modern.put("fchmodat2", 452);
    modern.put("map_shadow_stack", 453);
    modern.put("statmount", 457);
    modern.put("listmount", 458);
    modern.put("mseal", 462);
    modern.put("open_tree_attr", 467);
    modern.put("listns", 470);
    for (Arch arch : Arch.values()) {
      modern.forEach(
          (name, nr) ->
              assertThat(arch.syscalls().number(name)).as(arch + " " + name).hasValue(nr));
    }
  }

  @Test
  void knowsWellKnownNumbers() {
    SyscallTable x86 = SyscallTable.of(Arch.X86_64);
    assertThat(x86.number("read")).hasValue(0);
    assertThat(x86.number("ptrace")).hasValue(101);
    assertThat(x86.name(56)).isEqualTo("clone");
    assertThat(x86.number("uretprobe")).hasValue(335);
    SyscallTable arm = SyscallTable.of(Arch.AARCH64);
    assertThat(arm.number("read")).hasValue(63);
    assertThat(arm.number("open")).isEmpty();
    assertThat(arm.number("openat")).hasValue(56);
    assertThat(arm.number("clone")).hasValue(220);
    assertThat(arm.maxNumber()).isEqualTo(470);
    assertThat(SyscallTable.knownAnywhere("open")).isTrue();
    assertThat(SyscallTable.knownAnywhere("vm86")).isFalse();
  }

  @Test
  void hostIsKnownAndOtherArchitecturesAreRefusedByName() {
    assertThat(Arch.host()).isIn((Object[]) Arch.values());
    assertThat(Arch.fromOsArch("amd64")).isEqualTo(Arch.X86_64);
    assertThat(Arch.fromOsArch("aarch64")).isEqualTo(Arch.AARCH64);
    assertThatThrownBy(() -> Arch.fromOsArch("s390x"))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("s390x");
  }

  private static Path firstExisting(String... paths) {
    for (String p : paths) {
      if (Files.isRegularFile(Path.of(p))) {
        return Path.of(p);
      }
    }
    HostTools.require(false, "no x86_64 asm/unistd_64.h (package linux-libc-dev)");
    throw new AssertionError("unreachable");
  }
}
