package dev.kavach.backend.process.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * What the kernel hands a seccomp filter: {@code struct seccomp_data}.
 *
 * @param nr system call number
 * @param arch {@code AUDIT_ARCH_*} value
 * @param instructionPointer where the call was made
 * @param args the six arguments, full 64-bit register values
 */
// An array rather than a list: the interpreter reads it on a hot path, and the record copies it.
@SuppressWarnings("ArrayRecordComponent")
public record SeccompData(int nr, int arch, long instructionPointer, long[] args) {

  /** Copies the arguments; fewer than six are padded with zeros. */
  public SeccompData {
    if (args.length > ArgCondition.ARGS) {
      throw new IllegalArgumentException("at most 6 arguments, got " + args.length);
    }
    args = Arrays.copyOf(args, ArgCondition.ARGS);
  }

  /** A call of {@code nr} on {@code arch} with these arguments. */
  public static SeccompData of(Arch arch, int nr, long... args) {
    return new SeccompData(nr, arch.auditArch(), 0, args);
  }

  /** The arguments (a copy). */
  @Override
  public long[] args() {
    return args.clone();
  }

  long arg(int i) {
    return args[i];
  }

  /** The 32-bit word at a byte offset of the little-endian struct, as BPF_LD|BPF_ABS reads it. */
  int word(int offset) {
    if (offset == Bpf.OFF_NR) {
      return nr;
    }
    if (offset == Bpf.OFF_ARCH) {
      return arch;
    }
    long v = offset < Bpf.OFF_ARGS ? instructionPointer : args[(offset - Bpf.OFF_ARGS) / 8];
    return (offset & 4) == 0 ? (int) v : (int) (v >>> 32);
  }

  /** The struct as the kernel lays it out on a little-endian machine. */
  public byte[] bytes() {
    ByteBuffer b = ByteBuffer.allocate(Bpf.DATA_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(nr).putInt(arch).putLong(instructionPointer);
    for (long a : args) {
      b.putLong(a);
    }
    return b.array();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof SeccompData d
        && d.nr == nr
        && d.arch == arch
        && d.instructionPointer == instructionPointer
        && Arrays.equals(d.args, args);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * nr + arch) + Long.hashCode(instructionPointer)) + Arrays.hashCode(args);
  }

  @Override
  public String toString() {
    return String.format(
        "SeccompData[nr=%d, arch=0x%08x, args=%s]", nr, arch, Arrays.toString(args));
  }
}
