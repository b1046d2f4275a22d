package dev.kavach.backend.process.seccomp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;

/**
 * A compiled seccomp filter: the {@code struct sock_filter} array the launcher passes to {@code
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &(struct sock_fprog){len, filter})}.
 */
public final class BpfProgram {
  /** Bytes per instruction in {@link #bytes()}. */
  public static final int INSTRUCTION_BYTES = 8;

  private final Arch arch;
  private final String profileName;
  private final boolean networkIsolated;
  private final List<BpfInstruction> instructions;
  // Decoded once for the interpreter.
  private final int[] code;
  private final int[] jt;
  private final int[] jf;
  private final int[] k;

  BpfProgram(
      Arch arch, String profileName, boolean networkIsolated, List<BpfInstruction> instructions) {
    this.arch = Objects.requireNonNull(arch, "arch");
    this.profileName = Objects.requireNonNull(profileName, "profileName");
    this.networkIsolated = networkIsolated;
    this.instructions = List.copyOf(instructions);
    int n = this.instructions.size();
    code = new int[n];
    jt = new int[n];
    jf = new int[n];
    k = new int[n];
    for (int i = 0; i < n; i++) {
      BpfInstruction insn = this.instructions.get(i);
      code[i] = insn.code();
      jt[i] = insn.jt();
      jf[i] = insn.jf();
      k[i] = insn.k();
    }
  }

  /** The architecture the program accepts calls of. */
  public Arch arch() {
    return arch;
  }

  /** The name of the profile it was compiled from, for the enforcement report. */
  public String profileName() {
    return profileName;
  }

  /** Whether it was compiled for an isolated network (socket families restricted). */
  public boolean networkIsolated() {
    return networkIsolated;
  }

  /** The instructions. */
  public List<BpfInstruction> instructions() {
    return instructions;
  }

  /** The number of instructions ({@code sock_fprog.len}). */
  public int length() {
    return instructions.size();
  }

  /**
   * The {@code struct sock_filter[]} bytes: per instruction a 16-bit code, 8-bit jt, 8-bit jf and
   * 32-bit k, little-endian (the byte order of both supported architectures). {@link #length()}
   * times {@value #INSTRUCTION_BYTES} bytes; a fresh array on each call.
   */
  public byte[] bytes() {
    ByteBuffer b =
        ByteBuffer.allocate(instructions.size() * INSTRUCTION_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (BpfInstruction i : instructions) {
      b.putShort((short) i.code()).put((byte) i.jt()).put((byte) i.jf()).putInt(i.k());
    }
    return b.array();
  }

  /**
   * Writes {@link #bytes()} to a new file; fails if the file exists, so nothing planted in its
   * place is ever read as the filter.
   */
  public void writeTo(Path file) throws IOException {
    Files.write(file, bytes(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  /** One instruction per line with its index, for debugging. */
  public String disassemble() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < instructions.size(); i++) {
      sb.append(String.format("%4d: %s%n", i, instructions.get(i)));
    }
    return sb.toString();
  }

  int[] codes() {
    return code;
  }

  int[] jts() {
    return jt;
  }

  int[] jfs() {
    return jf;
  }

  int[] ks() {
    return k;
  }

  @Override
  public String toString() {
    return "BpfProgram["
        + profileName
        + ", "
        + arch.id()
        + (networkIsolated ? ", network isolated" : "")
        + ", "
        + length()
        + " instructions]";
  }
}
