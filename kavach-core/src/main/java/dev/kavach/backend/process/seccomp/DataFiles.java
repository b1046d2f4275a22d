package dev.kavach.backend.process.seccomp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads the data files shipped in this package. A missing or malformed file is a build bug. */
final class DataFiles {
  private DataFiles() {}

  /** The text of a resource of this package. */
  static String text(String name) {
    try (InputStream in = DataFiles.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("kavach-core is missing its resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read resource " + name, e);
    }
  }

  /**
   * The lines of a "name value" table, without comments ({@code #} to end of line) and blank lines,
   * each split into exactly two fields.
   */
  static List<String[]> pairs(String name) {
    List<String[]> rows = new ArrayList<>();
    String[] lines = text(name).split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length != 2) {
        throw new IllegalStateException(
            name + ":" + (i + 1) + ": expected \"name value\", got \"" + line + "\"");
      }
      rows.add(fields);
    }
    return rows;
  }

  /** Parses a decimal or {@code 0x} hexadecimal unsigned 32-bit value. */
  static long parseU32(String text) {
    long v =
        text.startsWith("0x") || text.startsWith("0X")
            ? Long.parseLong(text.substring(2), 16)
            : Long.parseLong(text);
    if (v < 0 || v > 0xFFFF_FFFFL) {
      throw new NumberFormatException(text + " is not an unsigned 32-bit value");
    }
    return v;
  }
}
