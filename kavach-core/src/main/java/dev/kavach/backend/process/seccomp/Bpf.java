package dev.kavach.backend.process.seccomp;

/**
 * Classic BPF opcodes ({@code linux/filter.h}, {@code linux/bpf_common.h}) and the {@code
 * seccomp_data} layout ({@code linux/seccomp.h}) the compiler and the interpreter share.
 */
final class Bpf {
  private Bpf() {}

  // Instruction classes.
  static final int LD = 0x00;
  static final int LDX = 0x01;
  static final int ST = 0x02;
  static final int STX = 0x03;
  static final int ALU = 0x04;
  static final int JMP = 0x05;
  static final int RET = 0x06;
  static final int MISC = 0x07;

  // Sizes and modes of loads.
  static final int W = 0x00;
  static final int IMM = 0x00;
  static final int ABS = 0x20;
  static final int MEM = 0x60;
  static final int LEN = 0x80;

  // ALU operations.
  static final int ADD = 0x00;
  static final int SUB = 0x10;
  static final int MUL = 0x20;
  static final int DIV = 0x30;
  static final int OR = 0x40;
  static final int AND = 0x50;
  static final int LSH = 0x60;
  static final int RSH = 0x70;
  static final int NEG = 0x80;
  static final int MOD = 0x90;
  static final int XOR = 0xa0;

  // Jumps.
  static final int JA = 0x00;
  static final int JEQ = 0x10;
  static final int JGT = 0x20;
  static final int JGE = 0x30;
  static final int JSET = 0x40;

  // Operand source.
  static final int K = 0x00;
  static final int X = 0x08;
  static final int A = 0x10;

  // MISC.
  static final int TAX = 0x00;
  static final int TXA = 0x80;

  /** {@code BPF_MAXINSNS}: the kernel refuses longer programs. */
  static final int MAX_INSNS = 4096;

  /** {@code BPF_MEMWORDS}: scratch memory cells. */
  static final int MEM_WORDS = 16;

  /** Offsets in {@code struct seccomp_data}. */
  static final int OFF_NR = 0;

  static final int OFF_ARCH = 4;
  static final int OFF_IP = 8;
  static final int OFF_ARGS = 16;

  /** {@code sizeof(struct seccomp_data)}. */
  static final int DATA_SIZE = 64;

  /** The offset of an argument's low 32 bits (little-endian). */
  static int argLow(int index) {
    return OFF_ARGS + 8 * index;
  }

  static int cls(int code) {
    return code & 0x07;
  }
}
