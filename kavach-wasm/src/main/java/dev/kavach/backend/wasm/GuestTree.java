package dev.kavach.backend.wasm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The guest's filesystem namespace: host directories and files mounted at guest paths, in-memory
 * files (secrets), and the read-only virtual directories above them. Nothing else exists for the
 * guest. Lookups are lexical over already-resolved names; symbolic links are followed by {@link
 * GuestFileSystemProvider}, in guest space.
 */
final class GuestTree {

  /**
   * A host path visible to the guest.
   *
   * @param at guest path names
   * @param host canonical host path (no symbolic link in it)
   * @param writable whether the guest may change anything under it
   * @param directory whether the host path is a directory
   */
  record Mount(List<String> at, Path host, boolean writable, boolean directory) {
    Mount {
      at = List.copyOf(at);
    }
  }

  /**
   * A read-only file that lives only in the JVM's memory.
   *
   * @param at guest path names
   * @param content the bytes, not copied (the caller wipes them after the exec)
   * @param mode permission bits shown to the guest
   */
  // Not copied: secret values are wiped by the Sandbox after the exec, and a copy would survive.
  @SuppressWarnings("ArrayRecordComponent")
  record MemoryFile(List<String> at, byte[] content, int mode) {
    MemoryFile {
      at = List.copyOf(at);
    }
  }

  /** Where a resolved guest path lands. */
  sealed interface Location permits OnHost, InMemory, Virtual, Missing {}

  /** Inside a mount. */
  record OnHost(Path host, Mount mount, boolean mountRoot) implements Location {}

  /** An in-memory file. */
  record InMemory(MemoryFile file) implements Location {}

  /** A directory that exists only because a mount or file lies below it. */
  record Virtual(List<String> at) implements Location {}

  /** Outside everything the guest can see. */
  record Missing(List<String> at) implements Location {}

  private final List<Mount> mounts;
  private final List<MemoryFile> files;

  GuestTree(List<Mount> mounts, List<MemoryFile> files) {
    this.mounts = List.copyOf(mounts);
    this.files = List.copyOf(files);
  }

  List<Mount> mounts() {
    return mounts;
  }

  List<MemoryFile> files() {
    return files;
  }

  /** The same mounts with these in-memory files. */
  GuestTree withFiles(List<MemoryFile> memoryFiles) {
    return new GuestTree(mounts, memoryFiles);
  }

  /**
   * Where these names (free of {@code .}, {@code ..} and symbolic links up to the last one) land.
   * An in-memory file wins over a mount, a deeper mount over a shallower one.
   */
  Location locate(List<String> names) {
    for (MemoryFile f : files) {
      if (f.at().equals(names)) {
        return new InMemory(f);
      }
    }
    Mount best = null;
    for (Mount m : mounts) {
      if (isPrefix(m.at(), names) && (best == null || m.at().size() > best.at().size())) {
        best = m;
      }
    }
    if (best != null) {
      List<String> rest = names.subList(best.at().size(), names.size());
      if (rest.isEmpty()) {
        return new OnHost(best.host(), best, true);
      }
      if (best.directory()) {
        Path host = best.host();
        for (String n : rest) {
          host = host.resolve(n);
        }
        return new OnHost(host, best, false);
      }
      return new Missing(names); // below a mounted file
    }
    if (!children(names).isEmpty() || names.isEmpty()) {
      return new Virtual(names);
    }
    return new Missing(names);
  }

  /** Names directly below a virtual directory: the next name of every mount or file under it. */
  Set<String> children(List<String> dir) {
    Set<String> out = new TreeSet<>();
    for (List<String> at : allPaths()) {
      if (at.size() > dir.size() && isPrefix(dir, at)) {
        out.add(at.get(dir.size()));
      }
    }
    return out;
  }

  private List<List<String>> allPaths() {
    List<List<String>> all = new ArrayList<>();
    mounts.forEach(m -> all.add(m.at()));
    files.forEach(f -> all.add(f.at()));
    return all;
  }

  /** The mount whose guest path is exactly these names, if any. */
  @Nullable Mount mountAt(List<String> names) {
    for (Mount m : mounts) {
      if (m.at().equals(names)) {
        return m;
      }
    }
    return null;
  }

  static boolean isPrefix(List<String> prefix, List<String> names) {
    return prefix.size() <= names.size() && names.subList(0, prefix.size()).equals(prefix);
  }
}
