package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import dev.kavach.backend.process.seccomp.SeccompCompiler.Layout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SeccompCompilerTest {
  private static final SeccompAction ALLOW = SeccompAction.allow();
  private static final SeccompAction EPERM = SeccompAction.errno("EPERM");
  private static final SeccompAction ENOSYS = SeccompAction.errno("ENOSYS");
  private static final SeccompAction EAFNOSUPPORT = SeccompAction.errno("EAFNOSUPPORT");
  private static final SeccompAction KILL = SeccompAction.killProcess();
  private static final int I386 = 0x40000003;

  static Stream<Arguments> programs() {
    List<Arguments> all = new ArrayList<>();
    for (String profile : SeccompProfile.BUILT_IN) {
      for (Arch arch : Arch.values()) {
        for (boolean isolated : new boolean[] {false, true}) {
          for (Layout layout : Layout.values()) {
            all.add(Arguments.of(profile, arch, isolated, layout));
          }
        }
      }
    }
    return all.stream();
  }

  /**
   * The property: for every system call number of the table (and past it), with argument values
   * that hit, miss and straddle every case of the profile, plus random ones with junk in the high
   * halves, the compiled program returns exactly what the profile says.
   */
  @ParameterizedTest(name = "{0} {1} isolated={2} {3}")
  @MethodSource("programs")
  void everyCallGetsExactlyTheProfilesAction(
      String name, Arch arch, boolean isolated, Layout layout) {
    SeccompProfile profile = SeccompProfile.builtIn(name);
    BpfProgram program = SeccompCompiler.compile(profile, arch, isolated, layout);
    BpfInterpreter vm = BpfInterpreter.of(program);
    FilterSpec spec = FilterSpec.of(profile, arch, isolated);
    SyscallTable table = arch.syscalls();
    SplittableRandom random = new SplittableRandom(42);
    List<long[]> argSets = interestingArgs(profile, random);
    int checked = 0;
    for (int nr = 0; nr <= table.maxNumber() + 64; nr++) {
      String syscall = table.name(nr);
      for (long[] args : argSets) {
        SeccompData d = SeccompData.of(arch, nr, args);
        SeccompAction expected =
            syscall == null ? profile.unknownAction() : profile.decide(syscall, args, isolated);
        assertThat(vm.action(d)).as("%s %s(%s)", program, syscall, d).isEqualTo(expected);
        assertThat(spec.decide(d)).isEqualTo(expected);
        checked++;
      }
    }
    for (int i = 0; i < 20_000; i++) {
      SeccompData d = new SeccompData(random.nextInt(), arch.auditArch(), 0, randomArgs(random));
      assertThat(vm.action(d)).as("%s %s", program, d).isEqualTo(spec.decide(d));
      checked++;
    }
    assertThat(checked).isGreaterThan(50_000);
  }

  /** Zeros, random words, and each case's operand with its neighbours, in every argument slot. */
  private static List<long[]> interestingArgs(SeccompProfile profile, SplittableRandom random) {
    List<long[]> sets = new ArrayList<>();
    sets.add(new long[6]);
    for (SyscallRule r : profile.rules()) {
      for (ArgCase c : r.cases()) {
        long[] all = new long[6];
        for (ArgCondition cond : c.conditions()) {
          all[cond.index()] = cond.value();
          for (long delta : new long[] {-1, 0, 1}) {
            long[] one = new long[6];
            one[cond.index()] = (cond.value() + delta) & 0xFFFF_FFFFL;
            sets.add(one);
            long[] high = one.clone();
            high[cond.index()] |= (random.nextLong() | 1L) << 32; // junk the kernel ignores
            sets.add(high);
          }
        }
        sets.add(all);
      }
    }
    for (int i = 0; i < 8; i++) {
      sets.add(randomArgs(random));
    }
    return sets;
  }

  private static long[] randomArgs(SplittableRandom random) {
    long[] a = new long[6];
    for (int i = 0; i < 6; i++) {
      a[i] = random.nextInt(4) == 0 ? random.nextInt(64) : random.nextLong();
    }
    return a;
  }

  @ParameterizedTest(name = "{0} {1} isolated={2} {3}")
  @MethodSource("programs")
  void anotherArchitectureOrX32IsKilled(String name, Arch arch, boolean isolated, Layout layout) {
    BpfInterpreter vm =
        BpfInterpreter.of(
            SeccompCompiler.compile(SeccompProfile.builtIn(name), arch, isolated, layout));
    SplittableRandom random = new SplittableRandom(7);
    List<Integer> foreign =
        new ArrayList<>(List.of(I386, 0, 0xC00000B7 ^ 0xC000003E ^ arch.auditArch()));
    for (int i = 0; i < 200; i++) {
      foreign.add(random.nextInt());
    }
    for (int a : foreign) {
      if (a == arch.auditArch()) {
        continue;
      }
      for (int nr : new int[] {0, 1, 20, 39, 56, 101, 435, random.nextInt()}) {
        assertThat(vm.action(new SeccompData(nr, a, 0, new long[6]))).isEqualTo(KILL);
      }
    }
    int getpid = arch.syscalls().number("getpid").orElseThrow();
    SeccompAction x32 = vm.action(SeccompData.of(arch, Arch.X32_SYSCALL_BIT | getpid));
    assertThat(x32).isEqualTo(arch.hasX32() ? KILL : SeccompProfile.builtIn(name).unknownAction());
    assertThat(vm.action(SeccompData.of(arch, 0xFFFF_FFFF))) // nr -1 has the x32 bit too
        .isEqualTo(arch.hasX32() ? KILL : SeccompProfile.builtIn(name).unknownAction());
  }

  @Test
  void argumentChecksOnX86_64() {
    for (String name : SeccompProfile.BUILT_IN) {
      SeccompProfile p = SeccompProfile.builtIn(name);
      BpfInterpreter vm = BpfInterpreter.of(SeccompCompiler.compile(p, Arch.X86_64, true));
      BpfInterpreter open = BpfInterpreter.of(SeccompCompiler.compile(p, Arch.X86_64, false));
      // clone: threads and fork pass, any namespace flag is refused.
      long thread = 0x3d0f00L; // glibc pthread_create:
      // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
      long fork = 0x01200011L; // glibc fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
      assertThat(vm.action(x86("clone", thread))).isEqualTo(ALLOW);
      assertThat(vm.action(x86("clone", fork))).isEqualTo(ALLOW);
      for (String ns :
          List.of(
              "CLONE_NEWUSER",
              "CLONE_NEWNS",
              "CLONE_NEWPID",
              "CLONE_NEWNET",
              "CLONE_NEWIPC",
              "CLONE_NEWUTS",
              "CLONE_NEWCGROUP",
              "CLONE_NEWTIME")) {
        long flag = KernelConstants.value(ns).orElseThrow();
        assertThat(vm.action(x86("clone", fork | flag))).as(ns).isEqualTo(EPERM);
        assertThat(vm.action(x86("clone", 0xFFFF_FFFF_0000_0000L | flag)))
            .as(ns + " with high junk")
            .isEqualTo(EPERM);
        assertThat(vm.action(x86("unshare", flag))).as(ns).isEqualTo(EPERM);
      }
      assertThat(vm.action(x86("clone3", 0x7fff_0000_1000L, 88))).isEqualTo(ENOSYS);
      assertThat(vm.action(x86("unshare", 0x400))).isEqualTo(EPERM); // even CLONE_FILES
      assertThat(vm.action(x86("setns", 3, 0))).isEqualTo(EPERM);
      // ioctl: TIOCSTI and TIOCLINUX are refused even with junk in the high half, which the kernel
      // drops.
      for (long req : new long[] {0x5412, 0x541C, 0xDEAD_BEEF_0000_5412L, 0x1_0000_541CL}) {
        assertThat(vm.action(x86("ioctl", 0, req, 0))).as(Long.toHexString(req)).isEqualTo(EPERM);
      }
      assertThat(vm.action(x86("ioctl", 1, 0x5401, 0))).isEqualTo(ALLOW); // TCGETS
      assertThat(vm.action(x86("ioctl", 1, 0x5413, 0))).isEqualTo(ALLOW); // TIOCGWINSZ
      // socket: local families and IP (whose namespace has only loopback) pass; everything else
      // is refused when the network is isolated.
      assertThat(vm.action(x86("socket", 1, 1, 0))).isEqualTo(ALLOW);
      assertThat(vm.action(x86("socket", 2, 1, 0))).isEqualTo(ALLOW);
      assertThat(vm.action(x86("socket", 10, 1, 0))).isEqualTo(ALLOW);
      assertThat(vm.action(x86("socket", 16, 3, 0))).isEqualTo(ALLOW); // NETLINK_ROUTE
      assertThat(vm.action(x86("socket", 16, 3, 9))).isEqualTo(EAFNOSUPPORT); // NETLINK_AUDIT
      for (long family : new long[] {17, 38, 40, 0, 45, 46, 0x1_0000_0011L}) {
        assertThat(vm.action(x86("socket", family, 1, 0)))
            .as("family " + family)
            .isEqualTo(EAFNOSUPPORT);
      }
      assertThat(open.action(x86("socket", 2, 1, 0))).isEqualTo(ALLOW);
      assertThat(open.action(x86("socket", 10, 2, 0))).isEqualTo(ALLOW);
      assertThat(open.action(x86("socket", 40, 1, 0))).isEqualTo(EAFNOSUPPORT); // vsock, always
      // personality: the harmless values pass.
      for (long ok : new long[] {0, 8, 0x20000, 0x20008, 0xFFFF_FFFFL}) {
        assertThat(vm.action(x86("personality", ok))).isEqualTo(ALLOW);
      }
      for (long bad : new long[] {0x0040000, 0x0400000, 0x0100000, 0x0040008}) {
        assertThat(vm.action(x86("personality", bad))).isEqualTo(EPERM);
      }
    }
  }

  private static SeccompData x86(String syscall, long... args) {
    return SeccompData.of(Arch.X86_64, Arch.X86_64.syscalls().number(syscall).orElseThrow(), args);
  }

  @Test
  void theTreeKeepsEveryCallShortAndTheHotOnesShorter() {
    for (String name : SeccompProfile.BUILT_IN) {
      SeccompProfile p = SeccompProfile.builtIn(name);
      BpfInterpreter tree = BpfInterpreter.of(SeccompCompiler.compile(p, Arch.X86_64, true));
      BpfInterpreter linear =
          BpfInterpreter.of(SeccompCompiler.compile(p, Arch.X86_64, true, Layout.LINEAR));
      int worstTree = 0;
      int worstTreeDispatch = 0;
      int worstLinear = 0;
      long sumTree = 0;
      for (int nr = 0; nr <= 470; nr++) {
        int steps = tree.execute(SeccompData.of(Arch.X86_64, nr)).steps();
        sumTree += steps;
        worstTree = Math.max(worstTree, steps);
        // The layouts differ in finding the call; argument checks after that are the same code
        // in both, so the worst-case comparison leaves the calls that have them out.
        String callName = Arch.X86_64.syscalls().name(nr);
        SyscallRule rule = callName == null ? null : p.rule(callName);
        if (rule == null || rule.cases().isEmpty()) {
          worstTreeDispatch = Math.max(worstTreeDispatch, steps);
          worstLinear =
              Math.max(worstLinear, linear.execute(SeccompData.of(Arch.X86_64, nr)).steps());
        }
      }
      double averageTree = sumTree / 471.0;
      assertThat(worstTree).as(name + " worst case, tree").isLessThanOrEqualTo(20);
      assertThat(worstLinear).as(name + " worst case, linear").isGreaterThan(3 * worstTreeDispatch);
      long sumHot = 0;
      List<String> hot =
          List.of("read", "write", "futex", "mmap", "close", "rt_sigprocmask", "poll", "lseek");
      for (String h : hot) {
        int steps = tree.execute(x86(h)).steps();
        assertThat(steps).as(name + " " + h).isLessThanOrEqualTo(10);
        sumHot += steps;
      }
      assertThat((double) sumHot / hot.size())
          .as(name + " hot calls on average")
          .isLessThan(averageTree - 2);
      // The common read: 5 fixed instructions (arch, x32, return) and two tree levels.
      assertThat(tree.execute(x86("read")).steps()).isEqualTo(7);
    }
  }

  @Test
  void bytesAreSockFilterStructsInLittleEndian() {
    BpfProgram p = SeccompCompiler.compile(SeccompProfile.builtIn("basic"), Arch.X86_64, false);
    byte[] b = p.bytes();
    assertThat(b).hasSize(8 * p.length());
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    // ld [4]: BPF_LD|BPF_W|BPF_ABS = 0x20, k = offsetof(seccomp_data, arch)
    assertThat(buf.getShort(0)).isEqualTo((short) 0x20);
    assertThat(buf.getInt(4)).isEqualTo(4);
    // jeq #AUDIT_ARCH_X86_64
    assertThat(buf.getShort(8)).isEqualTo((short) 0x15);
    assertThat(buf.getInt(12)).isEqualTo(0xC000003E);
    assertThat(p.profileName()).isEqualTo("basic");
    assertThat(p.disassemble()).contains("   0: ld [4]").contains("ret kill_process");
  }

  @Test
  void writeToRefusesAnExistingFile(@TempDir Path dir) throws IOException {
    BpfProgram p = SeccompCompiler.compile(SeccompProfile.builtIn("strict"), Arch.X86_64, true);
    Path f = dir.resolve("seccomp.bpf");
    p.writeTo(f);
    assertThat(Files.readAllBytes(f)).isEqualTo(p.bytes());
    assertThatThrownBy(() -> p.writeTo(f))
        .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
  }

  /** A profile whose program is far longer than a conditional jump reaches. */
  @Test
  void longProgramsJumpCorrectlyPastTheEightBitOffsets() {
    StringBuilder cases = new StringBuilder();
    for (int i = 0; i < 600; i++) {
      cases
          .append(i == 0 ? "" : ",")
          .append("{\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": ")
          .append(0x1000 + i)
          .append("}], \"action\": \"errno\", \"errno\": ")
          .append(1 + i % 200)
          .append("}");
    }
    String json =
        "{\"name\": \"long\", \"default\": {\"action\": \"allow\"}, \"syscalls\": ["
            + "{\"names\": [\"ioctl\"], \"action\": \"log\", \"cases\": ["
            + cases
            + "]},"
            + "{\"names\": [\"ptrace\", \"mount\"], \"action\": \"kill_process\"}]}";
    SeccompProfile p = SeccompProfile.parse(json, "long");
    for (Layout layout : Layout.values()) {
      BpfProgram program = SeccompCompiler.compile(p, Arch.X86_64, false, layout);
      assertThat(program.length()).isGreaterThan(1800);
      assertThat(program.instructions())
          .anyMatch(i -> i.code() == 0x05 && i.k() > 255); // a long ja
      BpfInterpreter vm = BpfInterpreter.of(program);
      for (int i = 0; i < 600; i++) {
        assertThat(vm.action(x86("ioctl", 0, 0x1000 + i)))
            .isEqualTo(SeccompAction.errno(1 + i % 200));
      }
      assertThat(vm.action(x86("ioctl", 0, 0x999))).isEqualTo(SeccompAction.log());
      assertThat(vm.action(x86("ptrace"))).isEqualTo(KILL);
      assertThat(vm.action(x86("read"))).isEqualTo(ALLOW);
      assertThat(vm.action(new SeccompData(0, I386, 0, new long[6]))).isEqualTo(KILL);
    }
  }

  @Test
  void aProgramOverTheKernelsLimitIsRefused() {
    StringBuilder cases = new StringBuilder();
    for (int i = 0; i < 1500; i++) {
      cases
          .append(i == 0 ? "" : ",")
          .append("{\"if\": [{\"arg\": 1, \"op\": \"eq\", \"value\": ")
          .append(i)
          .append("}], \"action\": \"log\"}");
    }
    SeccompProfile p =
        SeccompProfile.parse(
            "{\"name\": \"huge\", \"default\": {\"action\": \"allow\"}, \"syscalls\": [{\"names\": [\"ioctl\"], \"action\": \"allow\", \"cases\": ["
                + cases
                + "]}]}",
            "huge");
    assertThatThrownBy(() -> SeccompCompiler.compile(p, Arch.X86_64, false))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("more than the kernel's limit of 4096");
  }

  /** Each operator, compiled and run, against its definition written out here on its own. */
  @Test
  void everyOperatorCompilesToItsMeaning() {
    String[] ops = {"eq", "ne", "lt", "le", "gt", "ge", "any_bits"};
    long[] operands = {0, 1, 0x7fff_ffffL, 0x8000_0000L, 0xFFFF_FFFFL, 0x5412};
    SplittableRandom random = new SplittableRandom(3);
    List<Long> inputs =
        new ArrayList<>(
            List.of(
                0L,
                1L,
                2L,
                0x5411L,
                0x5412L,
                0x5413L,
                0x7fff_fffeL,
                0x7fff_ffffL,
                0x8000_0000L,
                0x8000_0001L,
                0xFFFF_FFFEL,
                0xFFFF_FFFFL,
                0x1_0000_0000L,
                0xFFFF_FFFF_0000_5412L));
    for (int i = 0; i < 300; i++) {
      inputs.add(random.nextLong());
    }
    for (String op : ops) {
      for (long v : operands) {
        if (op.equals("any_bits") && v == 0) {
          continue;
        }
        BpfInterpreter vm =
            BpfInterpreter.of(
                SeccompCompiler.compile(
                    oneCase("{\"arg\": 2, \"op\": \"" + op + "\", \"value\": " + v + "}"),
                    Arch.X86_64,
                    false));
        for (long arg : inputs) {
          long x = arg & 0xFFFF_FFFFL; // the low half, as the kernel reads int arguments
          boolean holds =
              switch (op) {
                case "eq" -> x == v;
                case "ne" -> x != v;
                case "lt" -> x < v;
                case "le" -> x <= v;
                case "gt" -> x > v;
                case "ge" -> x >= v;
                default -> (x & v) != 0;
              };
          assertThat(vm.action(x86("ioctl", 0, 0, arg)))
              .as("%s 0x%x on 0x%x", op, v, arg)
              .isEqualTo(holds ? TRAP : SeccompAction.errno(5));
        }
      }
    }
    BpfInterpreter masked =
        BpfInterpreter.of(
            SeccompCompiler.compile(
                oneCase(
                    "{\"arg\": 0, \"op\": \"masked_eq\", \"mask\": \"0xff00\", \"value\": \"0x1200\"},"
                        + " {\"arg\": 5, \"op\": \"any_bits\", \"value\": 6}"),
                Arch.X86_64,
                false));
    for (long arg : inputs) {
      for (long last : new long[] {0, 1, 2, 4, 7, arg}) {
        boolean holds = (arg & 0xff00) == 0x1200 && (last & 6) != 0;
        assertThat(masked.action(x86("ioctl", arg, 0, 0, 0, 0, last)))
            .as("0x%x, 0x%x", arg, last)
            .isEqualTo(holds ? TRAP : SeccompAction.errno(5));
      }
    }
    assertThat(masked.action(x86("ioctl", 0x12ab, 0, 0, 0, 0, 2))).isEqualTo(TRAP);
  }

  private static final SeccompAction TRAP = new SeccompAction(SeccompAction.Kind.TRAP, 0);

  private static SeccompProfile oneCase(String conditions) {
    return SeccompProfile.parse(
        "{\"name\": \"op\", \"default\": {\"action\": \"allow\"}, \"syscalls\": [{\"names\": [\"ioctl\"],"
            + " \"action\": \"errno\", \"errno\": 5, \"cases\": [{\"if\": ["
            + conditions
            + "], \"action\": \"trap\"}]}]}",
        "op");
  }
}
