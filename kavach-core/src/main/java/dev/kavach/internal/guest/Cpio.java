package dev.kavach.internal.guest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deterministic initrd: a cpio archive in the {@code newc} format the kernel unpacks into its
 * initial root. Entries are written sorted by path with inode numbers in that order, owner 0:0 and
 * modification time 0, so the same content always gives the same bytes (and the same measurement in
 * a confidential guest's launch digest).
 *
 * <pre>{@code
 * byte[] initrd = new Cpio().dir("proc", 0755).file("init", 0755, agent).toBytes();
 * }</pre>
 */
public final class Cpio {
  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;
  private static final int S_IFCHR = 0020000;

  private final Map<String, Entry> entries = new TreeMap<>();

  // Private and copied on the way in: the array never escapes.
  @SuppressWarnings("ArrayRecordComponent")
  private record Entry(int mode, byte[] data, int rdevMajor, int rdevMinor) {}

  /** Adds a directory. */
  public Cpio dir(String path, int perm) {
    return add(path, new Entry(S_IFDIR | perm, new byte[0], 0, 0));
  }

  /** Adds a regular file. */
  public Cpio file(String path, int perm, byte[] data) {
    return add(path, new Entry(S_IFREG | perm, data.clone(), 0, 0));
  }

  /** Adds a symbolic link. */
  public Cpio symlink(String path, String target) {
    return add(path, new Entry(S_IFLNK | 0777, target.getBytes(StandardCharsets.UTF_8), 0, 0));
  }

  /** Adds a character device node (the kernel needs {@code dev/console} before init runs). */
  public Cpio charDevice(String path, int perm, int major, int minor) {
    return add(path, new Entry(S_IFCHR | perm, new byte[0], major, minor));
  }

  private Cpio add(String path, Entry e) {
    if (path.isEmpty() || path.startsWith("/") || path.contains("..") || path.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "cpio path (" + path + ") must be relative, without .. or NUL");
    }
    if (entries.putIfAbsent(path, e) != null) {
      throw new IllegalArgumentException("cpio path (" + path + ") was already added");
    }
    return this;
  }

  /** The archive, ending with the {@code TRAILER!!!} entry. */
  public byte[] toBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int ino = 1;
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      Entry v = e.getValue();
      boolean dir = (v.mode() & S_IFMT) == S_IFDIR;
      write(out, e.getKey(), ino++, v.mode(), dir ? 2 : 1, v.data(), v.rdevMajor(), v.rdevMinor());
    }
    write(out, "TRAILER!!!", 0, 0, 1, new byte[0], 0, 0);
    return out.toByteArray();
  }

  private static void write(
      ByteArrayOutputStream out,
      String name,
      int ino,
      int mode,
      int nlink,
      byte[] data,
      int rdevMajor,
      int rdevMinor) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    StringBuilder h = new StringBuilder("070701");
    for (long field :
        new long[] {
          ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdevMajor, rdevMinor, n.length + 1, 0
        }) {
      h.append(String.format("%08x", field));
    }
    out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(n);
    out.write(0);
    pad(out);
    out.writeBytes(data);
    pad(out);
  }

  private static void pad(ByteArrayOutputStream out) {
    while (out.size() % 4 != 0) {
      out.write(0);
    }
  }
}
