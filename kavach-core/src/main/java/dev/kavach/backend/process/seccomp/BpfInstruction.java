package dev.kavach.backend.process.seccomp;

/**
 * One classic BPF instruction, {@code struct sock_filter}.
 *
 * @param code opcode (16 bits)
 * @param jt forward jump when a conditional jump holds (8 bits)
 * @param jf forward jump when it does not (8 bits)
 * @param k operand (32 bits)
 */
public record BpfInstruction(int code, int jt, int jf, int k) {

  /** Checks the field widths. */
  public BpfInstruction {
    if (code < 0 || code > 0xffff) {
      throw new IllegalArgumentException("code " + code + " does not fit in 16 bits");
    }
    if (jt < 0 || jt > 0xff || jf < 0 || jf > 0xff) {
      throw new IllegalArgumentException("jump offsets " + jt + "/" + jf + " do not fit in 8 bits");
    }
  }

  /** A readable form, for dumps and test failures. */
  @Override
  public String toString() {
    String kk = String.format("0x%x", k);
    String src = (code & Bpf.X) != 0 ? "x" : "#" + kk;
    return switch (Bpf.cls(code)) {
      case Bpf.LD ->
          switch (code & 0xe0) {
            case Bpf.ABS -> "ld [" + k + "]";
            case Bpf.MEM -> "ld M[" + k + "]";
            case Bpf.LEN -> "ld #len";
            default -> "ld #" + kk;
          };
      case Bpf.LDX -> (code & 0xe0) == Bpf.MEM ? "ldx M[" + k + "]" : "ldx #" + kk;
      case Bpf.ST -> "st M[" + k + "]";
      case Bpf.STX -> "stx M[" + k + "]";
      case Bpf.ALU -> "alu 0x" + Integer.toHexString(code & 0xf0) + " " + src;
      case Bpf.JMP -> jump(src);
      case Bpf.RET -> (code & 0x18) == Bpf.A ? "ret a" : "ret " + retName();
      default -> (code & 0xf8) == Bpf.TXA ? "txa" : "tax";
    };
  }

  private String jump(String src) {
    String op =
        switch (code & 0xf0) {
          case Bpf.JA -> "ja";
          case Bpf.JEQ -> "jeq";
          case Bpf.JGT -> "jgt";
          case Bpf.JGE -> "jge";
          case Bpf.JSET -> "jset";
          default -> "j?";
        };
    return op.equals("ja") ? "ja +" + k : op + " " + src + ", +" + jt + ", +" + jf;
  }

  private String retName() {
    try {
      return SeccompAction.fromRet(k).toString();
    } catch (IllegalArgumentException e) {
      return String.format("#0x%x", k);
    }
  }
}
