package dev.kavach.backend.process.seccomp;

/**
 * Runs a classic BPF program on a {@link SeccompData} the way the kernel runs a seccomp filter, so
 * tests can check a compiled program on thousands of inputs without installing it.
 *
 * <p>{@link #of} first checks the program as the kernel does when it is installed ({@code
 * bpf_check_classic} and {@code seccomp_check_filter}): 1 to 4096 instructions, only the opcodes
 * seccomp accepts, aligned loads inside {@code seccomp_data}, jumps that stay inside the program,
 * no constant division by zero or shift of 32 or more, scratch memory written before it is read,
 * and a return as the last instruction. A program it accepts, the kernel accepts.
 *
 * <pre>{@code
 * BpfInterpreter vm = BpfInterpreter.of(program);
 * SeccompAction a = vm.action(SeccompData.of(Arch.X86_64, 101));   // ptrace
 * }</pre>
 */
public final class BpfInterpreter {
  private final int[] code;
  private final int[] jt;
  private final int[] jf;
  private final int[] k;

  /**
   * The result of one run.
   *
   * @param ret the filter's return value
   * @param steps instructions executed, the cost the kernel pays per system call
   */
  public record Outcome(int ret, int steps) {
    /** The action the return value stands for. */
    public SeccompAction action() {
      return SeccompAction.fromRet(ret);
    }
  }

  private BpfInterpreter(BpfProgram p) {
    this.code = p.codes();
    this.jt = p.jts();
    this.jf = p.jfs();
    this.k = p.ks();
  }

  /**
   * An interpreter for a program.
   *
   * @throws IllegalArgumentException naming the first instruction the kernel would refuse
   */
  public static BpfInterpreter of(BpfProgram program) {
    BpfInterpreter vm = new BpfInterpreter(program);
    vm.check();
    return vm;
  }

  /** The action for one system call. */
  public SeccompAction action(SeccompData d) {
    return SeccompAction.fromRet(run(d));
  }

  /** The filter's return value for one system call. */
  public int run(SeccompData d) {
    return execute(d).ret();
  }

  /** Runs the program and counts the instructions executed. */
  public Outcome execute(SeccompData d) {
    int a = 0;
    int x = 0;
    int[] mem = null; // allocated by the first store; the checker refuses a load before one
    int pc = 0;
    int steps = 0;
    while (true) {
      int c = code[pc];
      int kk = k[pc];
      steps++;
      int next = pc + 1;
      switch (Bpf.cls(c)) {
        case Bpf.LD ->
            a =
                switch (c & 0xe0) {
                  case Bpf.ABS -> d.word(kk);
                  case Bpf.LEN -> Bpf.DATA_SIZE;
                  case Bpf.MEM -> mem[kk];
                  default -> kk;
                };
        case Bpf.LDX ->
            x =
                switch (c & 0xe0) {
                  case Bpf.LEN -> Bpf.DATA_SIZE;
                  case Bpf.MEM -> mem[kk];
                  default -> kk;
                };
        case Bpf.ST, Bpf.STX -> {
          if (mem == null) {
            mem = new int[Bpf.MEM_WORDS];
          }
          mem[kk] = Bpf.cls(c) == Bpf.ST ? a : x;
        }
        case Bpf.ALU -> a = alu(c, a, (c & Bpf.X) != 0 ? x : kk);
        case Bpf.JMP -> next += jump(c, a, (c & Bpf.X) != 0 ? x : kk, pc);
        case Bpf.RET -> {
          return new Outcome((c & 0x18) == Bpf.A ? a : kk, steps);
        }
        default -> {
          if ((c & 0xf8) == Bpf.TXA) {
            a = x;
          } else {
            x = a;
          }
        }
      }
      pc = next;
    }
  }

  /** How far a jump at {@code pc} goes beyond the next instruction. */
  private int jump(int c, int a, int operand, int pc) {
    if ((c & 0xf0) == Bpf.JA) {
      return k[pc];
    }
    boolean taken =
        switch (c & 0xf0) {
          case Bpf.JEQ -> a == operand;
          case Bpf.JGT -> Integer.compareUnsigned(a, operand) > 0;
          case Bpf.JGE -> Integer.compareUnsigned(a, operand) >= 0;
          default -> (a & operand) != 0; // JSET
        };
    return taken ? jt[pc] : jf[pc];
  }

  private static int alu(int c, int a, int v) {
    return switch (c & 0xf0) {
      case Bpf.ADD -> a + v;
      case Bpf.SUB -> a - v;
      case Bpf.MUL -> a * v;
      // A zero divisor in X: the kernel's conversion of classic BPF gives 0 (the checker refuses
      // a constant zero). Our compiler emits neither.
      case Bpf.DIV -> v == 0 ? 0 : Integer.divideUnsigned(a, v);
      case Bpf.OR -> a | v;
      case Bpf.AND -> a & v;
      case Bpf.LSH -> a << (v & 31);
      case Bpf.RSH -> a >>> (v & 31);
      case Bpf.NEG -> -a;
      default -> a ^ v; // XOR
    };
  }

  /** The kernel's install-time checks. */
  private void check() {
    int n = code.length;
    if (n == 0 || n > Bpf.MAX_INSNS) {
      throw new IllegalArgumentException(
          "a filter has 1 to " + Bpf.MAX_INSNS + " instructions, this one " + n);
    }
    for (int pc = 0; pc < n; pc++) {
      int c = code[pc];
      int kk = k[pc];
      if (!allowedBySeccomp(c)) {
        throw refuse(pc, String.format("opcode 0x%04x is not allowed in a seccomp filter", c));
      }
      switch (Bpf.cls(c)) {
        case Bpf.LD -> {
          if ((c & 0xe0) == Bpf.ABS && (kk < 0 || kk >= Bpf.DATA_SIZE || (kk & 3) != 0)) {
            throw refuse(pc, "load of offset " + kk + " outside seccomp_data or unaligned");
          }
          checkMem(c, kk, pc);
        }
        case Bpf.LDX, Bpf.ST, Bpf.STX -> checkMem(c, kk, pc);
        case Bpf.ALU -> checkAlu(c, kk, pc);
        case Bpf.JMP -> {
          if ((c & 0xf0) == Bpf.JA) {
            if (Integer.compareUnsigned(kk, n - pc - 1) >= 0) {
              throw refuse(pc, "ja +" + Integer.toUnsignedString(kk) + " leaves the program");
            }
          } else if (pc + 1 + jt[pc] >= n || pc + 1 + jf[pc] >= n) {
            throw refuse(pc, "conditional jump leaves the program");
          }
        }
        default -> {}
      }
    }
    if (Bpf.cls(code[n - 1]) != Bpf.RET) {
      throw refuse(n - 1, "the last instruction must be a return");
    }
    checkLoadsAfterStores();
  }

  private static void checkAlu(int c, int kk, int pc) {
    int op = c & 0xf0;
    if ((c & Bpf.X) == 0 && op == Bpf.DIV && kk == 0) {
      throw refuse(pc, "division by constant zero");
    }
    if ((c & Bpf.X) == 0
        && (op == Bpf.LSH || op == Bpf.RSH)
        && Integer.compareUnsigned(kk, 32) >= 0) {
      throw refuse(pc, "shift by " + Integer.toUnsignedString(kk));
    }
  }

  /** The opcodes seccomp_check_filter lets through. */
  private static boolean allowedBySeccomp(int c) {
    return switch (Bpf.cls(c)) {
      case Bpf.LD ->
          c == (Bpf.LD | Bpf.W | Bpf.ABS)
              || c == (Bpf.LD | Bpf.W | Bpf.LEN)
              || c == (Bpf.LD | Bpf.IMM)
              || c == (Bpf.LD | Bpf.MEM);
      case Bpf.LDX ->
          c == (Bpf.LDX | Bpf.W | Bpf.LEN) || c == (Bpf.LDX | Bpf.IMM) || c == (Bpf.LDX | Bpf.MEM);
      case Bpf.ST, Bpf.STX -> (c & ~0x07) == 0;
      case Bpf.ALU -> allowedAlu(c);
      case Bpf.JMP -> allowedJump(c);
      case Bpf.RET -> c == (Bpf.RET | Bpf.K) || c == (Bpf.RET | Bpf.A);
      default -> c == (Bpf.MISC | Bpf.TAX) || c == (Bpf.MISC | Bpf.TXA);
    };
  }

  private static boolean allowedAlu(int c) {
    int op = c & 0xf0;
    if (op == Bpf.NEG) {
      return c == (Bpf.ALU | Bpf.NEG);
    }
    boolean known =
        op == Bpf.ADD
            || op == Bpf.SUB
            || op == Bpf.MUL
            || op == Bpf.DIV
            || op == Bpf.AND
            || op == Bpf.OR
            || op == Bpf.XOR
            || op == Bpf.LSH
            || op == Bpf.RSH;
    return known && (c & ~0xf8) == Bpf.ALU;
  }

  private static boolean allowedJump(int c) {
    int op = c & 0xf0;
    if (op == Bpf.JA) {
      return c == (Bpf.JMP | Bpf.JA);
    }
    boolean known = op == Bpf.JEQ || op == Bpf.JGT || op == Bpf.JGE || op == Bpf.JSET;
    return known && (c & ~0xf8) == Bpf.JMP;
  }

  private void checkMem(int c, int kk, int pc) {
    boolean mem = Bpf.cls(c) == Bpf.ST || Bpf.cls(c) == Bpf.STX || (c & 0xe0) == Bpf.MEM;
    if (mem && (kk < 0 || kk >= Bpf.MEM_WORDS)) {
      throw refuse(pc, "scratch memory cell " + kk + " does not exist");
    }
  }

  /**
   * As the kernel's check_load_and_stores: a scratch cell must be written on every path that
   * reaches a load of it. Mirrors the kernel's single forward pass, quirks included.
   */
  private void checkLoadsAfterStores() {
    int n = code.length;
    int all = (1 << Bpf.MEM_WORDS) - 1;
    int[] masks = new int[n];
    java.util.Arrays.fill(masks, all);
    int memValid = 0;
    for (int pc = 0; pc < n; pc++) {
      memValid &= masks[pc];
      int c = code[pc];
      int cls = Bpf.cls(c);
      if (cls == Bpf.ST || cls == Bpf.STX) {
        memValid |= 1 << k[pc];
      } else if ((cls == Bpf.LD || cls == Bpf.LDX) && (c & 0xe0) == Bpf.MEM) {
        if ((memValid & (1 << k[pc])) == 0) {
          throw refuse(pc, "reads scratch memory cell " + k[pc] + " before any write");
        }
      } else if (cls == Bpf.JMP) {
        if ((c & 0xf0) == Bpf.JA) {
          masks[pc + 1 + k[pc]] &= memValid;
        } else {
          masks[pc + 1 + jt[pc]] &= memValid;
          masks[pc + 1 + jf[pc]] &= memValid;
        }
        memValid = all;
      }
    }
  }

  private static IllegalArgumentException refuse(int pc, String why) {
    return new IllegalArgumentException("instruction " + pc + ": " + why);
  }
}
