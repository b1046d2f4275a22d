package dev.kavach.backend.process.seccomp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A set of argument vectors fixed by bit patterns: for each argument, the bits of {@code mask} must
 * equal those of {@code value} (low 32 bits only, like every {@link ArgCondition}). This is exactly
 * what one OCI rule of {@code SCMP_CMP_MASKED_EQ} conditions matches, so a profile's argument
 * cases, cut into disjoint patterns, export to rules whose order does not matter.
 */
final class ArgPattern {
  private static final long LOW32 = 0xFFFF_FFFFL;

  private final long[] mask;
  private final long[] value;

  private ArgPattern(long[] mask, long[] value) {
    this.mask = mask;
    this.value = value;
  }

  /** Every argument vector. */
  static ArgPattern any() {
    return new ArgPattern(new long[ArgCondition.ARGS], new long[ArgCondition.ARGS]);
  }

  long mask(int arg) {
    return mask[arg];
  }

  long value(int arg) {
    return value[arg];
  }

  boolean unconstrained() {
    return Arrays.stream(mask).allMatch(m -> m == 0);
  }

  boolean matches(long[] args) {
    for (int i = 0; i < ArgCondition.ARGS; i++) {
      if ((args[i] & mask[i]) != value[i]) {
        return false;
      }
    }
    return true;
  }

  private ArgPattern with(int arg, long m, long v) {
    long[] mm = mask.clone();
    long[] vv = value.clone();
    mm[arg] = m;
    vv[arg] = v;
    return new ArgPattern(mm, vv);
  }

  /** The argument vectors a case holds for, as disjoint patterns. */
  static List<ArgPattern> hits(ArgCase c) {
    List<ArgPattern> out = List.of(any());
    for (ArgCondition cond : c.conditions()) {
      out = restrict(out, cond.index(), patterns(cond));
    }
    return out;
  }

  /**
   * The argument vectors a case does not hold for, as disjoint patterns: condition 1 fails, or it
   * holds and condition 2 fails, and so on. Built from each condition's complement, which is small
   * where the condition is large (not-equal is one pattern's complement), rather than by
   * subtracting patterns one by one, which fragments.
   */
  static List<ArgPattern> misses(ArgCase c) {
    List<ArgPattern> out = new ArrayList<>();
    List<ArgPattern> holdSoFar = List.of(any());
    for (ArgCondition cond : c.conditions()) {
      out.addAll(restrict(holdSoFar, cond.index(), complement(cond)));
      holdSoFar = restrict(holdSoFar, cond.index(), patterns(cond));
    }
    return out;
  }

  /** Each pattern narrowed by each {mask, value} pair on one argument (the pairs are disjoint). */
  private static List<ArgPattern> restrict(List<ArgPattern> in, int arg, List<long[]> pairs) {
    List<ArgPattern> out = new ArrayList<>();
    for (ArgPattern p : in) {
      for (long[] mv : pairs) {
        if (((p.value[arg] ^ mv[1]) & p.mask[arg] & mv[0]) == 0) {
          out.add(p.with(arg, p.mask[arg] | mv[0], p.value[arg] | mv[1]));
        }
      }
    }
    return out;
  }

  /** The values of one argument a condition does not hold for, as disjoint pairs. */
  private static List<long[]> complement(ArgCondition c) {
    long v = c.value();
    List<long[]> out = new ArrayList<>();
    switch (c.op()) {
      case EQ -> notEqual(LOW32, v, out);
      case MASKED_EQ -> notEqual(c.mask(), v, out);
      case NE -> out.add(new long[] {LOW32, v});
      case ANY_BITS -> out.add(new long[] {v, 0});
      case GE -> interval(0, v - 1, out);
      case GT -> interval(0, v, out);
      case LE -> interval(v + 1, LOW32, out);
      case LT -> interval(v, LOW32, out);
    }
    return out;
  }

  /** {@code (x & mask) != v}: agrees with v on the mask's higher bits, differs at bit b. */
  private static void notEqual(long mask, long v, List<long[]> out) {
    long higher = 0;
    for (int b = 31; b >= 0; b--) {
      long bit = 1L << b;
      if ((mask & bit) != 0) {
        out.add(new long[] {higher | bit, (v & higher) | (~v & bit)});
        higher |= bit;
      }
    }
  }

  /** One condition as disjoint {mask, value} pairs on its argument. */
  private static List<long[]> patterns(ArgCondition c) {
    long v = c.value();
    List<long[]> out = new ArrayList<>();
    switch (c.op()) {
      case EQ -> out.add(new long[] {LOW32, v});
      case MASKED_EQ -> out.add(new long[] {c.mask(), v});
      case ANY_BITS -> {
        // The first set bit decides: bit b set and every lower bit of the mask clear.
        long lower = 0;
        for (int b = 0; b < 32; b++) {
          long bit = 1L << b;
          if ((v & bit) != 0) {
            out.add(new long[] {lower | bit, bit});
            lower |= bit;
          }
        }
      }
      case NE -> notEqual(LOW32, v, out);
      case GE -> interval(v, LOW32, out);
      case GT -> interval(v + 1, LOW32, out);
      case LE -> interval(0, v, out);
      case LT -> interval(0, v - 1, out);
    }
    return out;
  }

  /** {@code [lo, hi]} as aligned power-of-two blocks. */
  private static void interval(long lo, long hi, List<long[]> out) {
    while (lo <= hi && lo <= LOW32) {
      int k = 0;
      while (k < 32 && (lo & ((1L << (k + 1)) - 1)) == 0 && lo + (1L << (k + 1)) - 1 <= hi) {
        k++;
      }
      out.add(new long[] {(LOW32 << k) & LOW32, lo});
      lo += 1L << k;
    }
  }

  /** The vectors in both, or null if none. */
  @Nullable ArgPattern intersect(ArgPattern o) {
    long[] mm = new long[ArgCondition.ARGS];
    long[] vv = new long[ArgCondition.ARGS];
    for (int i = 0; i < ArgCondition.ARGS; i++) {
      long common = mask[i] & o.mask[i];
      if (((value[i] ^ o.value[i]) & common) != 0) {
        return null;
      }
      mm[i] = mask[i] | o.mask[i];
      vv[i] = value[i] | o.value[i];
    }
    return new ArgPattern(mm, vv);
  }

  /**
   * Merges pairs of patterns that differ in one fixed bit only, round after round until none do:
   * the same set in fewer patterns, so fewer OCI rules. Patterns must be disjoint.
   */
  static List<ArgPattern> merge(List<ArgPattern> patterns) {
    List<ArgPattern> list = new ArrayList<>(new LinkedHashSet<>(patterns));
    while (true) {
      Set<ArgPattern> present = new HashSet<>(list);
      Set<ArgPattern> used = new HashSet<>();
      List<ArgPattern> next = new ArrayList<>();
      boolean changed = false;
      for (ArgPattern p : list) {
        if (used.contains(p)) {
          continue;
        }
        ArgPattern joined = null;
        for (int i = 0; i < ArgCondition.ARGS && joined == null; i++) {
          for (long m = p.mask[i]; m != 0 && joined == null; m &= m - 1) {
            long bit = Long.lowestOneBit(m);
            ArgPattern partner = p.with(i, p.mask[i], p.value[i] ^ bit);
            if (present.contains(partner) && !used.contains(partner)) {
              used.add(partner);
              joined = p.with(i, p.mask[i] & ~bit, p.value[i] & ~bit);
            }
          }
        }
        used.add(p);
        next.add(joined == null ? p : joined);
        changed |= joined != null;
      }
      if (!changed) {
        return next;
      }
      list = next;
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ArgPattern p
        && Arrays.equals(mask, p.mask)
        && Arrays.equals(value, p.value);
  }

  @Override
  public int hashCode() {
    // Patterns often differ in one high bit only; Arrays.hashCode would leave such differences
    // out of the low bits a hash table indexes by, so mix them down.
    long h = 0;
    for (int i = 0; i < ArgCondition.ARGS; i++) {
      h = (h + mask[i]) * 0x9E37_79B9_7F4A_7C15L;
      h = (h + value[i]) * 0x9E37_79B9_7F4A_7C15L;
    }
    h ^= h >>> 31;
    h *= 0xBF58_476D_1CE4_E5B9L;
    return (int) (h ^ (h >>> 32));
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < ArgCondition.ARGS; i++) {
      if (mask[i] != 0) {
        sb.append(String.format(" arg%d&0x%x==0x%x", i, mask[i], value[i]));
      }
    }
    return sb.append(" }").toString();
  }
}
