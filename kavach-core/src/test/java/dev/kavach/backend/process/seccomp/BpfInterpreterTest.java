package dev.kavach.backend.process.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BpfInterpreterTest {
  private static BpfInstruction i(int code, int k) {
    return new BpfInstruction(code, 0, 0, k);
  }

  private static BpfInstruction j(int code, int k, int jt, int jf) {
    return new BpfInstruction(code, jt, jf, k);
  }

  private static BpfInterpreter vm(BpfInstruction... code) {
    return BpfInterpreter.of(new BpfProgram(Arch.X86_64, "test", false, List.of(code)));
  }

  private static final int RET_K = Bpf.RET | Bpf.K;
  private static final int RET_A = Bpf.RET | Bpf.A;
  private static final int LD_ABS = Bpf.LD | Bpf.W | Bpf.ABS;

  @Test
  void readsSeccompDataWordsLittleEndian() {
    SeccompData d =
        new SeccompData(
            59, 0xC000003E, 0x1122_3344_5566_7788L, new long[] {0xAAAA_BBBB_CCCC_DDDDL, 5});
    assertThat(vm(i(LD_ABS, 0), i(RET_A, 0)).run(d)).isEqualTo(59);
    assertThat(vm(i(LD_ABS, 4), i(RET_A, 0)).run(d)).isEqualTo(0xC000003E);
    assertThat(vm(i(LD_ABS, 8), i(RET_A, 0)).run(d)).isEqualTo(0x5566_7788);
    assertThat(vm(i(LD_ABS, 12), i(RET_A, 0)).run(d)).isEqualTo(0x1122_3344);
    assertThat(vm(i(LD_ABS, 16), i(RET_A, 0)).run(d)).isEqualTo(0xCCCC_DDDD);
    assertThat(vm(i(LD_ABS, 20), i(RET_A, 0)).run(d)).isEqualTo(0xAAAA_BBBB);
    assertThat(vm(i(LD_ABS, 24), i(RET_A, 0)).run(d)).isEqualTo(5);
    assertThat(vm(i(Bpf.LD | Bpf.W | Bpf.LEN, 0), i(RET_A, 0)).run(d)).isEqualTo(64);
    // The same words the bytes() layout holds.
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.wrap(d.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < 64; off += 4) {
      assertThat(vm(i(LD_ABS, off), i(RET_A, 0)).run(d)).isEqualTo(b.getInt(off));
    }
  }

  @Test
  void jumpsCompareUnsigned() {
    // A = nr; jgt #5 -> ret 1 else ret 2
    BpfInterpreter gt =
        vm(i(LD_ABS, 0), j(Bpf.JMP | Bpf.JGT | Bpf.K, 5, 0, 1), i(RET_K, 1), i(RET_K, 2));
    assertThat(gt.run(nr(6))).isEqualTo(1);
    assertThat(gt.run(nr(5))).isEqualTo(2);
    assertThat(gt.run(nr(-1))).isEqualTo(1); // 0xffffffff > 5 unsigned
    BpfInterpreter ge =
        vm(i(LD_ABS, 0), j(Bpf.JMP | Bpf.JGE | Bpf.K, 0x8000_0000, 0, 1), i(RET_K, 1), i(RET_K, 2));
    assertThat(ge.run(nr(0x8000_0000))).isEqualTo(1);
    assertThat(ge.run(nr(0x7fff_ffff))).isEqualTo(2);
    BpfInterpreter set =
        vm(i(LD_ABS, 0), j(Bpf.JMP | Bpf.JSET | Bpf.K, 0x40000000, 0, 1), i(RET_K, 1), i(RET_K, 2));
    assertThat(set.run(nr(0x40000027))).isEqualTo(1);
    assertThat(set.run(nr(0x27))).isEqualTo(2);
    BpfInterpreter ja = vm(j(Bpf.JMP | Bpf.JA, 1, 0, 0), i(RET_K, 1), i(RET_K, 2));
    assertThat(ja.execute(nr(0))).isEqualTo(new BpfInterpreter.Outcome(2, 2));
  }

  @Test
  void aluScratchMemoryAndX() {
    // A = nr; X = A; A = 3; A += X; A <<= 2; M[3] = A; A = 0; A = M[3]; A ^= 1; ret A
    BpfInterpreter p =
        vm(
            i(LD_ABS, 0),
            i(Bpf.MISC | Bpf.TAX, 0),
            i(Bpf.LD | Bpf.IMM, 3),
            i(Bpf.ALU | Bpf.ADD | Bpf.X, 0),
            i(Bpf.ALU | Bpf.LSH | Bpf.K, 2),
            i(Bpf.ST, 3),
            i(Bpf.LD | Bpf.IMM, 0),
            i(Bpf.LD | Bpf.MEM, 3),
            i(Bpf.ALU | Bpf.XOR | Bpf.K, 1),
            i(RET_A, 0));
    assertThat(p.run(nr(4))).isEqualTo(((4 + 3) << 2) ^ 1);
    BpfInterpreter div =
        vm(i(LD_ABS, 0), i(Bpf.LDX | Bpf.IMM, 0), i(Bpf.ALU | Bpf.DIV | Bpf.X, 0), i(RET_A, 0));
    assertThat(div.run(nr(9))).isZero();
    BpfInterpreter udiv = vm(i(LD_ABS, 0), i(Bpf.ALU | Bpf.DIV | Bpf.K, 2), i(RET_A, 0));
    assertThat(udiv.run(nr(-2))).isEqualTo(0x7fff_ffff);
  }

  @Test
  void refusesWhatTheKernelRefuses() {
    refuses("1 to 4096", new BpfInstruction[0]);
    List<BpfInstruction> tooLong = new ArrayList<>();
    for (int n = 0; n < 4097; n++) {
      tooLong.add(i(RET_K, 0));
    }
    refuses("1 to 4096", tooLong.toArray(new BpfInstruction[0]));
    refuses("last instruction must be a return", i(LD_ABS, 0));
    refuses("outside seccomp_data or unaligned", i(LD_ABS, 2), i(RET_K, 0));
    refuses("outside seccomp_data or unaligned", i(LD_ABS, 64), i(RET_K, 0));
    refuses("not allowed in a seccomp filter", i(Bpf.LD | 0x10 | Bpf.ABS, 0), i(RET_K, 0)); // BPF_B
    refuses("not allowed in a seccomp filter", i(Bpf.ALU | Bpf.MOD | Bpf.K, 3), i(RET_K, 0));
    refuses("not allowed in a seccomp filter", i(Bpf.LD | Bpf.W | 0x40, 0), i(RET_K, 0)); // BPF_IND
    refuses("division by constant zero", i(Bpf.ALU | Bpf.DIV | Bpf.K, 0), i(RET_K, 0));
    refuses("shift by 32", i(Bpf.ALU | Bpf.LSH | Bpf.K, 32), i(RET_K, 0));
    refuses(
        "conditional jump leaves the program", j(Bpf.JMP | Bpf.JEQ | Bpf.K, 0, 1, 0), i(RET_K, 0));
    refuses("ja +1 leaves the program", j(Bpf.JMP | Bpf.JA, 1, 0, 0), i(RET_K, 0));
    refuses("ja +4294967295 leaves", j(Bpf.JMP | Bpf.JA, -1, 0, 0), i(RET_K, 0));
    refuses("scratch memory cell 16 does not exist", i(Bpf.ST, 16), i(RET_K, 0));
    refuses("before any write", i(Bpf.LD | Bpf.MEM, 0), i(RET_K, 0));
    // Written on one path only.
    refuses(
        "before any write",
        i(LD_ABS, 0),
        j(Bpf.JMP | Bpf.JEQ | Bpf.K, 1, 0, 1),
        i(Bpf.ST, 2),
        i(Bpf.LD | Bpf.MEM, 2),
        i(RET_A, 0));
  }

  private static void refuses(String message, BpfInstruction... code) {
    assertThatThrownBy(() -> vm(code))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void instructionsPrintReadably() {
    assertThat(i(LD_ABS, 4)).hasToString("ld [4]");
    assertThat(j(Bpf.JMP | Bpf.JGE | Bpf.K, 0x10, 3, 0)).hasToString("jge #0x10, +3, +0");
    assertThat(i(RET_K, SeccompAction.errno("EPERM").ret())).hasToString("ret errno(EPERM)");
    assertThat(i(RET_K, 0x7ff00000)).hasToString("ret #0x7ff00000"); // TRACE, which we never emit
  }

  private static SeccompData nr(int nr) {
    return new SeccompData(nr, 0, 0, new long[0]);
  }
}
