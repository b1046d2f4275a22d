package dev.kavach.backend.wasm;

import dev.kavach.backend.wasm.GuestTree.InMemory;
import dev.kavach.backend.wasm.GuestTree.Location;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Attributes of what exists only in the guest's namespace: in-memory files (read-only, with their
 * mode) and the virtual directories above mounts (read-only, {@code 0555}).
 *
 * @param directory whether it is a directory
 * @param size bytes
 * @param mode permission bits
 * @param inode a stable number for the guest's {@code st_ino}
 */
record SyntheticAttributes(boolean directory, long size, int mode, long inode)
    implements BasicFileAttributes {
  private static final FileTime EPOCH = FileTime.from(Instant.EPOCH);
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;

  static SyntheticAttributes of(Location where) {
    if (where instanceof InMemory m) {
      return new SyntheticAttributes(
          false,
          m.file().content().length,
          m.file().mode(),
          Integer.toUnsignedLong(m.file().at().hashCode()));
    }
    return new SyntheticAttributes(
        true, 0, 0555, Integer.toUnsignedLong(where.hashCode()) | (1L << 40));
  }

  /** The attributes under the names {@code Files.readAttributes(path, "unix:*")} returns. */
  Map<String, Object> asMap() {
    Map<String, Object> m = new HashMap<>();
    m.put("dev", 0L);
    m.put("ino", inode);
    m.put("nlink", directory ? 2 : 1);
    m.put("size", size);
    m.put("mode", (directory ? S_IFDIR : S_IFREG) | mode);
    m.put("uid", 0);
    m.put("gid", 0);
    m.put("rdev", 0L);
    m.put("lastAccessTime", EPOCH);
    m.put("lastModifiedTime", EPOCH);
    m.put("creationTime", EPOCH);
    m.put("ctime", EPOCH);
    m.put("isDirectory", directory);
    m.put("isRegularFile", !directory);
    m.put("isSymbolicLink", false);
    m.put("isOther", false);
    return m;
  }

  @Override
  public FileTime lastModifiedTime() {
    return EPOCH;
  }

  @Override
  public FileTime lastAccessTime() {
    return EPOCH;
  }

  @Override
  public FileTime creationTime() {
    return EPOCH;
  }

  @Override
  public boolean isRegularFile() {
    return !directory;
  }

  @Override
  public boolean isDirectory() {
    return directory;
  }

  @Override
  public boolean isSymbolicLink() {
    return false;
  }

  @Override
  public boolean isOther() {
    return false;
  }

  @Override
  public @Nullable Object fileKey() {
    return null;
  }
}
