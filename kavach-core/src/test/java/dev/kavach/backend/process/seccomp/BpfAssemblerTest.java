package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BpfAssemblerTest {
  @Test
  void nearJumpsNeedNoTrampoline() {
    BpfAssembler asm = new BpfAssembler();
    BpfAssembler.Label yes = asm.label();
    asm.load(0);
    asm.jump(Bpf.JEQ, 7, yes, null);
    asm.ret(SeccompAction.allow());
    asm.place(yes);
    asm.ret(SeccompAction.killProcess());
    List<BpfInstruction> code = asm.assemble();
    assertThat(code).hasSize(4);
    assertThat(code.get(1)).isEqualTo(new BpfInstruction(0x15, 1, 0, 7));
  }

  /** Both branches farther than 255 instructions: each goes through its own {@code ja}. */
  @Test
  void farBranchesGoThroughTrampolinesAndStillLandRight() {
    for (int gap : new int[] {254, 255, 256, 300, 1000}) {
      BpfAssembler asm = new BpfAssembler();
      BpfAssembler.Label t = asm.label();
      BpfAssembler.Label f = asm.label();
      asm.load(0);
      asm.jump(Bpf.JEQ, 7, t, f);
      for (int n = 0; n < gap; n++) {
        asm.ret(SeccompAction.errno(1 + n % 100));
      }
      asm.place(f);
      for (int n = 0; n < gap; n++) {
        asm.ret(SeccompAction.errno(200 + n % 100));
      }
      asm.place(t);
      asm.ret(SeccompAction.allow());
      BpfProgram p = new BpfProgram(Arch.X86_64, "t", false, asm.assemble());
      BpfInterpreter vm = BpfInterpreter.of(p);
      assertThat(vm.action(new SeccompData(7, 0, 0, new long[0])))
          .as("gap " + gap)
          .isEqualTo(SeccompAction.allow());
      assertThat(vm.action(new SeccompData(8, 0, 0, new long[0])))
          .as("gap " + gap)
          .isEqualTo(SeccompAction.errno(200));
      // The true branch (2 * gap away) always needs a trampoline. The false branch is gap away,
      // plus one for the first trampoline: 255 still fits, 256 does not.
      long trampolines =
          p.instructions().stream().filter(i -> i.code() == (Bpf.JMP | Bpf.JA)).count();
      assertThat(trampolines).as("gap " + gap).isEqualTo(gap + 1 <= 255 ? 1 : 2);
    }
  }

  /** A chain where fixing one jump pushes the next out of range. */
  @Test
  void relaxationRepeatsUntilEveryOffsetFits() {
    BpfAssembler asm = new BpfAssembler();
    BpfAssembler.Label end = asm.label();
    asm.load(0);
    for (int n = 0; n < 400; n++) {
      asm.jump(Bpf.JEQ, n, end, null);
    }
    asm.ret(SeccompAction.errno(1));
    asm.place(end);
    asm.ret(SeccompAction.allow());
    BpfInterpreter vm = BpfInterpreter.of(new BpfProgram(Arch.X86_64, "t", false, asm.assemble()));
    for (int n = 0; n < 400; n++) {
      assertThat(vm.action(new SeccompData(n, 0, 0, new long[0]))).isEqualTo(SeccompAction.allow());
    }
    assertThat(vm.action(new SeccompData(400, 0, 0, new long[0])))
        .isEqualTo(SeccompAction.errno(1));
  }
}
