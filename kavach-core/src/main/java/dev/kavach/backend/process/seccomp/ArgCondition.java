package dev.kavach.backend.process.seccomp;

import java.util.Locale;
import java.util.Objects;

/**
 * A test of one system call argument. Every test reads only the argument's low 32 bits.
 *
 * <p>Why 32 bits: the arguments worth testing (ioctl requests, socket families, personality values,
 * clone flags) are {@code int}s or flag words the kernel itself truncates to 32 bits ({@code
 * unsigned int cmd}, {@code lower_32_bits(clone_flags)}). A 64-bit comparison would let a caller
 * put junk in the high half, fail an "equals TIOCSTI" test, and still have the kernel run TIOCSTI.
 *
 * @param index argument number, 0 to 5
 * @param op the comparison
 * @param value the operand: the value compared with, or for {@link Op#ANY_BITS} the bits tested
 * @param mask for {@link Op#MASKED_EQ}, the bits of the argument compared with {@code value};
 *     otherwise 0
 */
public record ArgCondition(int index, Op op, long value, long mask) {

  /** Comparisons, all unsigned, all on the low 32 bits. */
  public enum Op {
    /** {@code arg == value}. */
    EQ,
    /** {@code arg != value}. */
    NE,
    /** {@code arg < value}. */
    LT,
    /** {@code arg <= value}. */
    LE,
    /** {@code arg > value}. */
    GT,
    /** {@code arg >= value}. */
    GE,
    /** {@code (arg & mask) == value}. */
    MASKED_EQ,
    /** {@code (arg & value) != 0}: any of these bits is set. */
    ANY_BITS;

    /** The name used in profile files. */
    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Number of system call arguments in {@code seccomp_data}. */
  public static final int ARGS = 6;

  private static final long LOW32 = 0xFFFF_FFFFL;

  /** Validates the operands. */
  public ArgCondition {
    Objects.requireNonNull(op, "op");
    if (index < 0 || index >= ARGS) {
      throw new IllegalArgumentException("arg (" + index + ") must be between 0 and 5");
    }
    if (value < 0 || value > LOW32 || mask < 0 || mask > LOW32) {
      throw new IllegalArgumentException(
          "value and mask must fit in 32 bits (arguments are tested on their low 32 bits)");
    }
    if (op == Op.MASKED_EQ) {
      if ((value & ~mask) != 0) {
        throw new IllegalArgumentException(
            String.format(
                "masked_eq value 0x%x has bits outside mask 0x%x, so it can never match",
                value, mask));
      }
    } else if (mask != 0) {
      throw new IllegalArgumentException(op.jsonName() + " takes no mask");
    }
    if (op == Op.ANY_BITS && value == 0) {
      throw new IllegalArgumentException("any_bits with no bits can never match");
    }
  }

  /** {@code arg == value}. */
  public static ArgCondition eq(int index, long value) {
    return new ArgCondition(index, Op.EQ, value, 0);
  }

  /** {@code (arg & bits) != 0}. */
  public static ArgCondition anyBits(int index, long bits) {
    return new ArgCondition(index, Op.ANY_BITS, bits, 0);
  }

  /** {@code (arg & mask) == value}. */
  public static ArgCondition maskedEq(int index, long mask, long value) {
    return new ArgCondition(index, Op.MASKED_EQ, value, mask);
  }

  /** Whether a full 64-bit argument value passes this test. */
  public boolean test(long arg) {
    long x = arg & LOW32;
    return switch (op) {
      case EQ -> x == value;
      case NE -> x != value;
      case LT -> x < value;
      case LE -> x <= value;
      case GT -> x > value;
      case GE -> x >= value;
      case MASKED_EQ -> (x & mask) == value;
      case ANY_BITS -> (x & value) != 0;
    };
  }

  @Override
  public String toString() {
    String v = String.format("0x%x", value);
    return op == Op.MASKED_EQ
        ? String.format("(arg%d & 0x%x) == %s", index, mask, v)
        : "arg" + index + " " + op.jsonName() + " " + v;
  }
}
