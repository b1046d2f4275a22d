package dev.kavach.backend.process.seccomp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * Errno names and symbolic argument values ({@code errno.txt}, {@code constants.txt}). Both are the
 * same on x86_64 and aarch64, which share the asm-generic errno and ioctl numbers.
 */
final class KernelConstants {
  /** The largest errno the kernel hands back from a filter ({@code MAX_ERRNO}). */
  static final int MAX_ERRNO = 4095;

  private static final Map<String, Integer> ERRNO = load("errno.txt");
  private static final Map<Integer, String> ERRNO_NAMES = invert(ERRNO);
  private static final Map<String, Long> SYMBOLS = loadLong("constants.txt");

  private KernelConstants() {}

  private static Map<String, Integer> load(String file) {
    Map<String, Integer> m = new LinkedHashMap<>();
    loadLong(file).forEach((k, v) -> m.put(k, (int) (long) v));
    return Collections.unmodifiableMap(m);
  }

  private static Map<String, Long> loadLong(String file) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String[] row : DataFiles.pairs(file)) {
      if (m.put(row[0], DataFiles.parseU32(row[1])) != null) {
        throw new IllegalStateException(file + " names " + row[0] + " twice");
      }
    }
    return Collections.unmodifiableMap(m);
  }

  private static Map<Integer, String> invert(Map<String, Integer> m) {
    Map<Integer, String> inv = new LinkedHashMap<>();
    m.forEach(
        (name, nr) ->
            inv.putIfAbsent(
                nr, name)); // the first name of an alias pair (EAGAIN before EWOULDBLOCK) wins
    return Collections.unmodifiableMap(inv);
  }

  /** The number of an errno name such as {@code EPERM}. */
  static OptionalInt errno(String name) {
    Integer v = ERRNO.get(name);
    return v == null ? OptionalInt.empty() : OptionalInt.of(v);
  }

  /** The name of an errno number, or null if it has none. */
  static @Nullable String errnoName(int errno) {
    return ERRNO_NAMES.get(errno);
  }

  /** Every errno name and number. */
  static Map<String, Integer> errnos() {
    return ERRNO;
  }

  /** Every symbolic argument value. */
  static Map<String, Long> symbols() {
    return SYMBOLS;
  }

  /**
   * Evaluates an argument value: a decimal or {@code 0x} hexadecimal number, a symbol, or symbols
   * and numbers joined with {@code |}. Empty if any part is neither.
   */
  static OptionalLong value(String expression) {
    long v = 0;
    for (String part : expression.split("\\|", -1)) {
      String p = part.strip();
      Long symbol = SYMBOLS.get(p);
      if (symbol != null) {
        v |= symbol;
        continue;
      }
      try {
        v |= DataFiles.parseU32(p);
      } catch (NumberFormatException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.of(v);
  }
}
