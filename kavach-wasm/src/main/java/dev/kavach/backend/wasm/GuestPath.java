package dev.kavach.backend.wasm;

import java.net.URI;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A path in the guest's namespace: Unix syntax, purely lexical. It never touches the host; {@link
 * GuestFileSystemProvider} maps it to a host path through the mount table when an operation runs.
 */
final class GuestPath implements Path {
  private final GuestFileSystem fs;
  private final boolean absolute;
  private final List<String> names;

  GuestPath(GuestFileSystem fs, boolean absolute, List<String> names) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = List.copyOf(names);
  }

  /** Parses Unix path syntax; repeated and trailing slashes collapse, as in POSIX. */
  static GuestPath parse(GuestFileSystem fs, String text) {
    List<String> names = new ArrayList<>();
    for (String n : text.split("/", -1)) {
      if (!n.isEmpty()) {
        names.add(n);
      }
    }
    return new GuestPath(fs, text.startsWith("/"), names);
  }

  /** The names, without the root. */
  List<String> names() {
    return names;
  }

  @Override
  public GuestFileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public @Nullable Path getRoot() {
    return absolute ? new GuestPath(fs, true, List.of()) : null;
  }

  @Override
  public @Nullable Path getFileName() {
    return names.isEmpty() ? null : new GuestPath(fs, false, List.of(names.get(names.size() - 1)));
  }

  @Override
  public @Nullable Path getParent() {
    if (names.isEmpty() || (!absolute && names.size() == 1)) {
      return null;
    }
    return new GuestPath(fs, absolute, names.subList(0, names.size() - 1));
  }

  @Override
  public int getNameCount() {
    return names.size();
  }

  @Override
  public Path getName(int index) {
    return new GuestPath(fs, false, List.of(names.get(index)));
  }

  @Override
  public Path subpath(int beginIndex, int endIndex) {
    return new GuestPath(fs, false, names.subList(beginIndex, endIndex));
  }

  @Override
  public boolean startsWith(Path other) {
    if (!(other instanceof GuestPath o) || o.absolute != absolute) {
      return false;
    }
    return o.names.size() <= names.size() && names.subList(0, o.names.size()).equals(o.names);
  }

  @Override
  public boolean endsWith(Path other) {
    if (!(other instanceof GuestPath o)) {
      return false;
    }
    if (o.absolute) {
      return equals(o);
    }
    int n = o.names.size();
    return n <= names.size() && names.subList(names.size() - n, names.size()).equals(o.names);
  }

  @Override
  public Path normalize() {
    List<String> out = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".")) {
        continue;
      }
      if (n.equals("..")) {
        if (!out.isEmpty() && !out.get(out.size() - 1).equals("..")) {
          out.remove(out.size() - 1);
          continue;
        }
        if (absolute) {
          continue; // "/.." is "/"
        }
      }
      out.add(n);
    }
    return new GuestPath(fs, absolute, out);
  }

  @Override
  public Path resolve(Path other) {
    GuestPath o = cast(other);
    if (o.absolute) {
      return o;
    }
    List<String> joined = new ArrayList<>(names);
    joined.addAll(o.names);
    return new GuestPath(fs, absolute, joined);
  }

  @Override
  public Path relativize(Path other) {
    GuestPath o = cast(other);
    if (o.absolute != absolute) {
      throw new IllegalArgumentException("cannot relativize " + other + " against " + this);
    }
    int common = 0;
    while (common < names.size()
        && common < o.names.size()
        && names.get(common).equals(o.names.get(common))) {
      common++;
    }
    List<String> out = new ArrayList<>();
    for (int i = common; i < names.size(); i++) {
      out.add("..");
    }
    out.addAll(o.names.subList(common, o.names.size()));
    return new GuestPath(fs, false, out);
  }

  @Override
  public URI toUri() {
    return URI.create(GuestFileSystemProvider.SCHEME + "://" + toAbsolutePath());
  }

  @Override
  public Path toAbsolutePath() {
    // The guest's paths are resolved against its root: WASI preview 1 has no working directory.
    return absolute ? this : new GuestPath(fs, true, names);
  }

  @Override
  public Path toRealPath(LinkOption... options) throws java.io.IOException {
    return fs.provider().realPath(this, options);
  }

  @Override
  public WatchKey register(
      WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("the guest filesystem has no watch service");
  }

  @Override
  public int compareTo(Path other) {
    return toString().compareTo(other.toString());
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof GuestPath p
        && p.fs == fs
        && p.absolute == absolute
        && p.names.equals(names);
  }

  @Override
  public int hashCode() {
    return Objects.hash(absolute, names);
  }

  @Override
  public String toString() {
    String joined = String.join("/", names);
    return absolute ? "/" + joined : joined;
  }

  private GuestPath cast(Path other) {
    if (!(other instanceof GuestPath o) || o.fs != fs) {
      throw new java.nio.file.ProviderMismatchException(
          "not a path of this guest filesystem: " + other);
    }
    return o;
  }
}
