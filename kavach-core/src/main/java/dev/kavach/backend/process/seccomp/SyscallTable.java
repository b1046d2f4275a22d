package dev.kavach.backend.process.seccomp;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * System call names and numbers of one architecture, read from {@code syscalls-<arch>.txt} in this
 * package. Immutable.
 */
public final class SyscallTable {
  private static final Map<Arch, SyscallTable> TABLES = loadAll();

  private final Arch arch;
  private final Map<String, Integer> byName;
  private final NavigableMap<Integer, String> byNumber;

  /** Names indexed by number, null in gaps: the compiler's hot path looks numbers up here. */
  private final String[] names;

  private SyscallTable(Arch arch, Map<String, Integer> byName) {
    this.arch = arch;
    this.byName = Collections.unmodifiableMap(byName);
    TreeMap<Integer, String> numbers = new TreeMap<>();
    byName.forEach(
        (name, nr) -> {
          String previous = numbers.put(nr, name);
          if (previous != null) {
            throw new IllegalStateException(
                arch.id() + " table gives " + nr + " to both " + previous + " and " + name);
          }
        });
    this.byNumber = Collections.unmodifiableNavigableMap(numbers);
    this.names = new String[numbers.lastKey() + 1];
    numbers.forEach((nr, name) -> names[nr] = name);
  }

  private static Map<Arch, SyscallTable> loadAll() {
    Map<Arch, SyscallTable> tables = new EnumMap<>(Arch.class);
    for (Arch arch : Arch.values()) {
      Map<String, Integer> byName = new LinkedHashMap<>();
      String file = "syscalls-" + arch.id() + ".txt";
      for (String[] row : DataFiles.pairs(file)) {
        if (byName.put(row[0], (int) DataFiles.parseU32(row[1])) != null) {
          throw new IllegalStateException(file + " names " + row[0] + " twice");
        }
      }
      tables.put(arch, new SyscallTable(arch, byName));
    }
    return Collections.unmodifiableMap(tables);
  }

  /** The table of an architecture. */
  public static SyscallTable of(Arch arch) {
    return Objects.requireNonNull(TABLES.get(arch));
  }

  /** Whether any supported architecture has a system call of this name. */
  public static boolean knownAnywhere(String name) {
    return TABLES.values().stream().anyMatch(t -> t.byName.containsKey(name));
  }

  /** The architecture. */
  public Arch arch() {
    return arch;
  }

  /** The number of a system call, empty if this architecture has none of that name. */
  public OptionalInt number(String name) {
    Integer nr = byName.get(name);
    return nr == null ? OptionalInt.empty() : OptionalInt.of(nr);
  }

  /** The name of a system call number, or null if the number is not in the table. */
  public @Nullable String name(int nr) {
    return nr >= 0 && nr < names.length ? names[nr] : null;
  }

  /** Names and numbers, ordered by number. */
  public NavigableMap<Integer, String> byNumber() {
    return byNumber;
  }

  /** All names. */
  public List<String> names() {
    return List.copyOf(byNumber.values());
  }

  /** The highest number in the table. */
  public int maxNumber() {
    return byNumber.lastKey();
  }

  /** The number of system calls in the table. */
  public int size() {
    return byName.size();
  }
}
