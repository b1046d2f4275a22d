package dev.kavach.backend.process.seccomp;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Compiles a {@link SeccompProfile} to the classic BPF program the launcher installs with {@code
 * seccomp(SECCOMP_SET_MODE_FILTER)} as its last step before {@code execve}.
 *
 * <p>The program, in order:
 *
 * <ol>
 *   <li>kills the process if {@code seccomp_data.arch} is not the target architecture: a 64-bit
 *       process can still make i386 calls ({@code int 0x80}), whose numbers mean other calls;
 *   <li>on x86_64, kills the process if the number has the x32 bit set: the kernel runs x32 calls
 *       for an x86_64 process, under numbers this filter's table does not describe. Killing rather
 *       than ENOSYS: nothing in a sandbox legitimately uses x32 from an x86_64 binary, so such a
 *       call is an attempt to slip past the filter, and a dead process makes that visible;
 *   <li>finds the number's decision by a binary search over ranges of numbers with the same outcome
 *       (a {@code jge} per level, about 8 for the built-in profiles), weighted so that the most
 *       frequent calls (read, write, futex, ...) sit near the root;
 *   <li>for a call with argument checks, tests the cases in order and returns the first that holds.
 * </ol>
 *
 * <pre>{@code
 * BpfProgram p = SeccompCompiler.compile(SeccompProfile.resolve("strict"), Arch.host(), true);
 * Files.write(runDir.resolve("seccomp.bpf"), p.bytes());
 * }</pre>
 */
public final class SeccompCompiler {
  /** How the program finds a system call's decision. */
  public enum Layout {
    /** A weighted binary search over number ranges: the default. */
    TREE,
    /**
     * One range test after another, as simple filters are written. Same answers, more instructions
     * for most calls; kept to measure what {@link #TREE} saves.
     */
    LINEAR
  }

  /**
   * System calls a typical program makes most often (strace -c of shells, coreutils, python and the
   * JVM, plus event loops), on either architecture. Each weighs as much as {@link #HOT_WEIGHT}
   * ordinary ranges when the tree is balanced, so these end up a few levels from the root.
   */
  private static final Set<String> HOT =
      Set.of(
          "read",
          "write",
          "futex",
          "mmap",
          "munmap",
          "mprotect",
          "madvise",
          "brk",
          "close",
          "openat",
          "newfstatat",
          "fstat",
          "statx",
          "lseek",
          "pread64",
          "pwrite64",
          "readv",
          "writev",
          "epoll_wait",
          "epoll_pwait",
          "poll",
          "ppoll",
          "recvfrom",
          "sendto",
          "recvmsg",
          "sendmsg",
          "rt_sigprocmask",
          "rt_sigaction",
          "getpid",
          "gettid",
          "clock_gettime",
          "sched_yield",
          "ioctl",
          "fcntl",
          "getdents64");

  private static final int HOT_WEIGHT = 16;

  /** {@link #HOT} as extra weights indexed by number, per architecture. */
  private static final Map<Arch, long[]> HOT_WEIGHTS = hotWeights();

  private static Map<Arch, long[]> hotWeights() {
    Map<Arch, long[]> m = new EnumMap<>(Arch.class);
    for (Arch arch : Arch.values()) {
      long[] w = new long[arch.syscalls().maxNumber() + 1];
      for (String name : HOT) {
        arch.syscalls().number(name).ifPresent(nr -> w[nr] = HOT_WEIGHT);
      }
      m.put(arch, w);
    }
    return Collections.unmodifiableMap(m);
  }

  private SeccompCompiler() {}

  /**
   * Compiles a profile with the {@link Layout#TREE} layout.
   *
   * @param networkIsolated whether the sandbox has no network; then the profile's {@code "network":
   *     "isolated"} cases (socket families) apply
   * @throws KavachException with {@link Reason#POLICY_INVALID} if the program would exceed the
   *     kernel's 4096 instructions
   */
  public static BpfProgram compile(SeccompProfile profile, Arch arch, boolean networkIsolated) {
    return compile(profile, arch, networkIsolated, Layout.TREE);
  }

  /** Compiles a profile with a chosen layout. */
  public static BpfProgram compile(
      SeccompProfile profile, Arch arch, boolean networkIsolated, Layout layout) {
    Objects.requireNonNull(layout, "layout");
    FilterSpec spec = FilterSpec.of(profile, arch, networkIsolated);
    BpfAssembler asm = new BpfAssembler();
    BpfAssembler.Label kill = asm.label();
    asm.load(Bpf.OFF_ARCH);
    asm.jump(Bpf.JEQ, arch.auditArch() & 0xFFFF_FFFFL, null, kill);
    asm.load(Bpf.OFF_NR);
    if (arch.hasX32()) {
      asm.jump(Bpf.JSET, Arch.X32_SYSCALL_BIT, kill, null);
    }
    List<Run> runs = runs(spec);
    if (layout == Layout.TREE) {
      long[] prefix = new long[runs.size() + 1];
      for (int i = 0; i < runs.size(); i++) {
        prefix[i + 1] = prefix[i] + runs.get(i).weight;
      }
      tree(asm, runs, prefix, 0, runs.size() - 1);
    } else {
      linear(asm, spec, runs);
    }
    asm.place(kill);
    asm.ret(FilterSpec.FOREIGN_ABI);
    List<BpfInstruction> code = asm.assemble();
    if (code.size() > Bpf.MAX_INSNS) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "seccomp profile "
              + profile.name()
              + " compiles to "
              + code.size()
              + " BPF instructions for "
              + arch.id()
              + ", more than the kernel's limit of "
              + Bpf.MAX_INSNS
              + " (too many argument cases?)");
    }
    return new BpfProgram(arch, profile.name(), networkIsolated, code);
  }

  /**
   * A range of numbers {@code [start, end]} with one outcome: a plain action, or the argument
   * checks of a single number.
   */
  private record Run(
      long start,
      long end,
      SeccompAction action,
      FilterSpec.@Nullable Decision checks,
      long weight) {}

  /** Splits the number space into runs of equal outcome, covering 0 to 2^32-1. */
  private static List<Run> runs(FilterSpec spec) {
    long[] hot = HOT_WEIGHTS.get(spec.arch());
    List<Run> runs = new ArrayList<>();
    for (int nr = 0; nr <= spec.maxNumber(); nr++) {
      FilterSpec.Decision d = spec.decision(nr);
      long weight = hot[nr];
      if (d != null && d.hasCases()) {
        runs.add(new Run(nr, nr, d.fallback(), d, 1 + weight));
        continue;
      }
      SeccompAction a = d == null ? spec.unknownAction() : d.fallback();
      add(runs, nr, nr, a, weight);
    }
    add(runs, spec.maxNumber() + 1L, 0xFFFF_FFFFL, spec.unknownAction(), 0);
    return runs;
  }

  private static void add(List<Run> runs, long start, long end, SeccompAction a, long weight) {
    if (!runs.isEmpty()) {
      Run last = runs.get(runs.size() - 1);
      if (last.checks == null && last.action.ret() == a.ret() && last.end + 1 == start) {
        runs.set(runs.size() - 1, new Run(last.start, end, a, null, last.weight + weight));
        return;
      }
    }
    runs.add(new Run(start, end, a, null, 1 + weight));
  }

  /** Emits a binary search over runs {@code [lo, hi]}; A holds the system call number. */
  private static void tree(BpfAssembler asm, List<Run> runs, long[] prefix, int lo, int hi) {
    if (lo == hi) {
      leaf(asm, runs.get(lo));
      return;
    }
    // Split where the weights on both sides are closest: hot calls get short paths. The prefix
    // sums grow, so the split is next to where they cross the middle.
    long middle = prefix[lo] + (prefix[hi + 1] - prefix[lo]) / 2;
    int cross = Arrays.binarySearch(prefix, lo + 1, hi + 1, middle);
    cross = cross >= 0 ? cross : -cross - 1;
    int best = lo + 1;
    long bestDiff = Long.MAX_VALUE;
    for (int s = Math.max(lo + 1, cross - 1); s <= Math.min(hi, cross + 1); s++) {
      long diff = Math.abs((prefix[s] - prefix[lo]) - (prefix[hi + 1] - prefix[s]));
      if (diff < bestDiff) {
        bestDiff = diff;
        best = s;
      }
    }
    BpfAssembler.Label right = asm.label();
    asm.jump(Bpf.JGE, runs.get(best).start, right, null);
    tree(asm, runs, prefix, lo, best - 1);
    asm.place(right);
    tree(asm, runs, prefix, best, hi);
  }

  /**
   * Emits one range test after another for the runs whose outcome differs from the default, then
   * the default. Leaves follow the chain.
   */
  private static void linear(BpfAssembler asm, FilterSpec spec, List<Run> runs) {
    List<BpfAssembler.Label> labels = new ArrayList<>();
    List<Run> targets = new ArrayList<>();
    for (Run r : runs) {
      if (r.checks == null && r.action.equals(spec.defaultAction())) {
        continue;
      }
      BpfAssembler.Label l = asm.label();
      if (r.start == r.end) {
        asm.jump(Bpf.JEQ, r.start, l, null);
      } else {
        BpfAssembler.Label skip = asm.label();
        asm.jump(Bpf.JGE, r.start, null, skip);
        asm.jump(Bpf.JGT, r.end, skip, l);
        asm.place(skip);
      }
      labels.add(l);
      targets.add(r);
    }
    asm.ret(spec.defaultAction());
    for (int i = 0; i < targets.size(); i++) {
      asm.place(labels.get(i));
      leaf(asm, targets.get(i));
    }
  }

  /** Emits the outcome of a run: a return, or the argument cases of its one number. */
  private static void leaf(BpfAssembler asm, Run run) {
    if (run.checks == null) {
      asm.ret(run.action);
      return;
    }
    for (ArgCase c : run.checks.cases()) {
      BpfAssembler.Label next = asm.label();
      for (ArgCondition cond : c.conditions()) {
        asm.load(Bpf.argLow(cond.index()));
        condition(asm, cond, next);
      }
      asm.ret(c.action());
      asm.place(next);
    }
    asm.ret(run.checks.fallback());
  }

  /** Emits a test of A (the argument's low word) that falls through if it holds. */
  private static void condition(BpfAssembler asm, ArgCondition c, BpfAssembler.Label fail) {
    long v = c.value();
    switch (c.op()) {
      case EQ -> asm.jump(Bpf.JEQ, v, null, fail);
      case NE -> asm.jump(Bpf.JEQ, v, fail, null);
      case GT -> asm.jump(Bpf.JGT, v, null, fail);
      case GE -> asm.jump(Bpf.JGE, v, null, fail);
      case LT -> asm.jump(Bpf.JGE, v, fail, null);
      case LE -> asm.jump(Bpf.JGT, v, fail, null);
      case ANY_BITS -> asm.jump(Bpf.JSET, v, null, fail);
      case MASKED_EQ -> {
        asm.stmt(Bpf.ALU | Bpf.AND | Bpf.K, (int) c.mask());
        asm.jump(Bpf.JEQ, v, null, fail);
      }
    }
  }
}
