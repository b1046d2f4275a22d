package dev.kavach.backend.process.seccomp;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds a classic BPF program with symbolic jump targets and resolves them.
 *
 * <p>Conditional jumps carry 8-bit offsets, so they reach at most 255 instructions ahead. When a
 * target is farther, {@link #assemble()} routes that branch through a trampoline: an unconditional
 * {@code ja} (32-bit offset) inserted right after the jump. Inserting instructions can push other
 * jumps out of range, so it repeats until every offset fits; each pass fixes branches for good, so
 * it ends.
 */
final class BpfAssembler {
  /** A jump target; placed before the instruction that follows it. */
  static final class Label {
    private int position = -1;
  }

  /** An instruction whose jump offsets are not resolved yet. */
  private static final class Pending {
    final int code;
    final int k;
    @Nullable Label jt; // the target of JA, or the true branch
    @Nullable Label jf;

    Pending(int code, int k, @Nullable Label jt, @Nullable Label jf) {
      this.code = code;
      this.k = k;
      this.jt = jt;
      this.jf = jf;
    }

    boolean conditional() {
      return Bpf.cls(code) == Bpf.JMP && (code & 0xf0) != Bpf.JA;
    }
  }

  private final List<Object> items = new ArrayList<>();

  /** A new, unplaced label. */
  Label label() {
    return new Label();
  }

  /** Places a label before the next instruction. */
  void place(Label label) {
    items.add(label);
  }

  /** A non-jump instruction. */
  void stmt(int code, int k) {
    items.add(new Pending(code, k, null, null));
  }

  /** {@code ret k}. */
  void ret(SeccompAction action) {
    stmt(Bpf.RET | Bpf.K, action.ret());
  }

  /** {@code ld [offset]}. */
  void load(int offset) {
    stmt(Bpf.LD | Bpf.W | Bpf.ABS, offset);
  }

  /**
   * A conditional jump comparing A with {@code k}. A null target means the next instruction.
   *
   * @param op {@link Bpf#JEQ}, {@link Bpf#JGT}, {@link Bpf#JGE} or {@link Bpf#JSET}
   */
  void jump(int op, long k, @Nullable Label jt, @Nullable Label jf) {
    Label next = null;
    if (jt == null || jf == null) {
      next = label();
    }
    items.add(
        new Pending(Bpf.JMP | op | Bpf.K, (int) k, jt == null ? next : jt, jf == null ? next : jf));
    if (next != null) {
      place(next);
    }
  }

  /** {@code ja target}. */
  void jumpAlways(Label target) {
    items.add(new Pending(Bpf.JMP | Bpf.JA, 0, target, null));
  }

  /** Resolves labels, inserting trampolines where a conditional jump cannot reach. */
  List<BpfInstruction> assemble() {
    while (true) {
      int count = positions();
      List<Object> relaxed = null;
      int pc = 0;
      for (int i = 0; i < items.size(); i++) {
        Object item = items.get(i);
        if (relaxed != null) {
          relaxed.add(item);
        }
        if (!(item instanceof Pending p)) {
          continue;
        }
        if (p.conditional()) {
          boolean farT = offset(pc, p.jt) > 0xff;
          boolean farF = offset(pc, p.jf) > 0xff;
          if (farT || farF) {
            if (relaxed == null) {
              relaxed = new ArrayList<>(items.subList(0, i + 1));
            }
            if (farT) {
              p.jt = trampoline(relaxed, p.jt);
            }
            if (farF) {
              p.jf = trampoline(relaxed, p.jf);
            }
          }
        }
        pc++;
      }
      if (relaxed == null) {
        return emit(count);
      }
      items.clear();
      items.addAll(relaxed);
    }
  }

  private static Label trampoline(List<Object> out, @Nullable Label target) {
    Label t = new Label();
    out.add(t);
    out.add(new Pending(Bpf.JMP | Bpf.JA, 0, target, null));
    return t;
  }

  /** Assigns positions to labels; returns the instruction count. */
  private int positions() {
    int pc = 0;
    for (Object item : items) {
      if (item instanceof Label l) {
        l.position = pc;
      } else {
        pc++;
      }
    }
    return pc;
  }

  private static int offset(int pc, @Nullable Label target) {
    if (target == null || target.position < 0) {
      throw new IllegalStateException("jump to a label that was never placed");
    }
    int off = target.position - (pc + 1);
    if (off < 0) {
      throw new IllegalStateException("BPF jumps only forward; target is " + -off + " behind");
    }
    return off;
  }

  private List<BpfInstruction> emit(int count) {
    List<BpfInstruction> out = new ArrayList<>(count);
    int pc = 0;
    for (Object item : items) {
      if (item instanceof Pending p) {
        if (p.conditional()) {
          out.add(new BpfInstruction(p.code, offset(pc, p.jt), offset(pc, p.jf), p.k));
        } else if (Bpf.cls(p.code) == Bpf.JMP) {
          out.add(new BpfInstruction(p.code, 0, 0, offset(pc, p.jt)));
        } else {
          out.add(new BpfInstruction(p.code, 0, 0, p.k));
        }
        pc++;
      }
    }
    return out;
  }
}
