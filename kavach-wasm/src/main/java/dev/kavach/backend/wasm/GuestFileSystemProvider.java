package dev.kavach.backend.wasm;

import dev.kavach.backend.wasm.GuestTree.InMemory;
import dev.kavach.backend.wasm.GuestTree.Location;
import dev.kavach.backend.wasm.GuestTree.Missing;
import dev.kavach.backend.wasm.GuestTree.OnHost;
import dev.kavach.backend.wasm.GuestTree.Virtual;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Confines Chicory's WASI filesystem calls to the guest's namespace ({@link GuestTree}).
 *
 * <p>Chicory resolves a WASI path lexically against the preopened directory's {@link Path} and
 * hands the result to {@link Files}; on the host's default filesystem the kernel would then follow
 * any symbolic link in it, including one pointing out of the workspace, and Chicory has no notion
 * of a read-only preopen. So the preopens are paths of this provider instead, which:
 *
 * <ul>
 *   <li>resolves every name itself, one at a time, following symbolic links <em>in guest space</em>
 *       (an absolute target restarts at the guest root, {@code ..} stops at it), so a link to
 *       {@code /etc/passwd} means the guest's {@code /etc/passwd}, which does not exist unless a
 *       rule mounts it;
 *   <li>only then touches the host, on a path with no symbolic link left in it, opened with {@code
 *       NOFOLLOW_LINKS};
 *   <li>refuses any change under a read-only mount, any change to a mount point or to the virtual
 *       directories above mounts, and hard links to files the guest may not write;
 *   <li>does all of that under one lock per sandbox, so that another exec of the same sandbox
 *       cannot swap a directory for a symbolic link between the check and the use (guests can only
 *       change the tree through this provider).
 * </ul>
 *
 * Reads and writes on an open file go straight to its {@link FileChannel}, which is bound to the
 * file, not the name. {@code readlink} returns the link's target as an absolute guest path.
 */
final class GuestFileSystemProvider extends FileSystemProvider {
  static final String SCHEME = "kavach-guest";

  // Linux's MAXSYMLINKS.
  private static final int MAX_SYMLINKS = 40;
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private final GuestTree tree;
  private final Object lock;
  private final long maxFileSize;
  private final GuestFileSystem fs;

  /**
   * @param tree what the guest can see
   * @param lock shared by every exec of one sandbox (they share its host directories)
   * @param maxFileSize largest size a written host file may reach, 0 for no limit
   */
  GuestFileSystemProvider(GuestTree tree, Object lock, long maxFileSize) {
    this.tree = tree;
    this.lock = lock;
    this.maxFileSize = maxFileSize;
    this.fs = new GuestFileSystem(this);
  }

  /** The guest filesystem. */
  GuestFileSystem fileSystem() {
    return fs;
  }

  /** What the guest can see. */
  GuestTree tree() {
    return tree;
  }

  /** The guest path for an absolute path string, such as {@code /workspace}. */
  GuestPath path(String guestPath) {
    return GuestPath.parse(fs, guestPath);
  }

  /** A guest path after resolution, and where it lands. */
  private record Resolved(List<String> guest, Location where) {}

  /**
   * Resolves a guest path to its location, following symbolic links in guest space: every name but
   * the last always, the last only when {@code followLast}.
   */
  private Resolved resolve(Path p, boolean followLast) throws IOException {
    GuestPath path = cast(p);
    Deque<String> todo = new ArrayDeque<>(path.names());
    List<String> done = new ArrayList<>();
    int links = 0;
    try {
      while (!todo.isEmpty()) {
        String name = todo.removeFirst();
        if (name.equals(".")) {
          continue;
        }
        if (name.equals("..")) {
          if (!done.isEmpty()) {
            done.remove(done.size() - 1);
          }
          continue;
        }
        done.add(name);
        boolean last = todo.isEmpty();
        Location where = tree.locate(done);
        if (where instanceof Missing || (where instanceof InMemory && !last)) {
          return new Resolved(List.copyOf(done), new Missing(List.copyOf(done)));
        }
        if (!(where instanceof OnHost h) || h.mountRoot() || (last && !followLast)) {
          continue;
        }
        if (!Files.isSymbolicLink(h.host())) {
          continue;
        }
        if (++links > MAX_SYMLINKS) {
          throw new FileSystemException(p.toString(), null, "too many levels of symbolic links");
        }
        String target = Files.readSymbolicLink(h.host()).toString();
        done.remove(done.size() - 1);
        if (target.startsWith("/")) {
          done.clear();
        }
        List<String> targetNames = GuestPath.parse(fs, target).names();
        for (int i = targetNames.size() - 1; i >= 0; i--) {
          todo.addFirst(targetNames.get(i));
        }
      }
    } catch (InvalidPathException e) {
      // A name the host cannot represent (a NUL byte) names nothing.
      throw new NoSuchFileException(p.toString());
    }
    return new Resolved(List.copyOf(done), tree.locate(done));
  }

  /** The host path of a location the guest may change names in (create, remove, rename). */
  private Path namespaceWritable(Path p, Resolved r) throws IOException {
    Location where = r.where();
    if (where instanceof Missing) {
      throw new AccessDeniedException(p.toString(), null, "outside every mount");
    }
    if (!(where instanceof OnHost h)) {
      throw new AccessDeniedException(p.toString(), null, "read-only");
    }
    if (h.mountRoot()) {
      throw new AccessDeniedException(p.toString(), null, "a mount point");
    }
    if (!h.mount().writable()) {
      throw new AccessDeniedException(p.toString(), null, "read-only mount");
    }
    return h.host();
  }

  private static Path onHost(Path p, Resolved r) throws IOException {
    if (r.where() instanceof OnHost h) {
      return h.host();
    }
    throw new NoSuchFileException(p.toString());
  }

  private static boolean follows(LinkOption... options) {
    return !Arrays.asList(options).contains(LinkOption.NOFOLLOW_LINKS);
  }

  private static boolean follows(Set<? extends OpenOption> options) {
    return !options.contains(LinkOption.NOFOLLOW_LINKS);
  }

  /** The resolved guest path, for {@link GuestPath#toRealPath}. */
  Path realPath(GuestPath p, LinkOption... options) throws IOException {
    synchronized (lock) {
      Resolved r = resolve(p, follows(options));
      if (r.where() instanceof Missing) {
        throw new NoSuchFileException(p.toString());
      }
      if (r.where() instanceof OnHost h) {
        Files.readAttributes(h.host(), BasicFileAttributes.class, NOFOLLOW); // must exist
      }
      return new GuestPath(fs, true, r.guest());
    }
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
    throw new UnsupportedOperationException("guest filesystems are created by the WASM backend");
  }

  @Override
  public FileSystem getFileSystem(URI uri) {
    throw new UnsupportedOperationException("guest filesystems are not looked up by URI");
  }

  @Override
  public Path getPath(URI uri) {
    throw new UnsupportedOperationException("guest paths are not looked up by URI");
  }

  @Override
  public SeekableByteChannel newByteChannel(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    return newFileChannel(path, options, attrs);
  }

  @Override
  public FileChannel newFileChannel(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    boolean creates =
        options.contains(StandardOpenOption.CREATE)
            || options.contains(StandardOpenOption.CREATE_NEW);
    boolean writes =
        creates
            || options.contains(StandardOpenOption.WRITE)
            || options.contains(StandardOpenOption.APPEND)
            || options.contains(StandardOpenOption.DELETE_ON_CLOSE);
    synchronized (lock) {
      Resolved r = resolve(path, follows(options));
      Location where = r.where();
      if (where instanceof InMemory m) {
        if (options.contains(StandardOpenOption.CREATE_NEW)) {
          throw new FileAlreadyExistsException(path.toString());
        }
        if (writes) {
          throw new AccessDeniedException(path.toString(), null, "read-only in-memory file");
        }
        return new MemoryFileChannel(m.file().content());
      }
      if (where instanceof Virtual) {
        if (options.contains(StandardOpenOption.CREATE_NEW)) {
          throw new FileAlreadyExistsException(path.toString());
        }
        throw new FileSystemException(path.toString(), null, "is a directory");
      }
      if (where instanceof Missing) {
        if (creates) {
          throw new AccessDeniedException(path.toString(), null, "outside every mount");
        }
        throw new NoSuchFileException(path.toString());
      }
      OnHost h = (OnHost) where;
      if (writes && !h.mount().writable()) {
        throw new AccessDeniedException(path.toString(), null, "read-only mount");
      }
      Set<OpenOption> opts = new HashSet<>(options);
      // The last name is already resolved (or is to be opened as a link): never let the kernel
      // follow a link here.
      opts.add(LinkOption.NOFOLLOW_LINKS);
      FileChannel channel = FileChannel.open(h.host(), opts, attrs);
      if (writes && maxFileSize > 0) {
        return new SizeLimitedFileChannel(channel, maxFileSize, path.toString());
      }
      return channel;
    }
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(
      Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
    List<Path> entries = new ArrayList<>();
    synchronized (lock) {
      Resolved r = resolve(dir, true);
      Set<String> names = new TreeSet<>();
      Location where = r.where();
      if (where instanceof Missing) {
        throw new NoSuchFileException(dir.toString());
      }
      if (where instanceof InMemory) {
        throw new NotDirectoryException(dir.toString());
      }
      if (where instanceof OnHost h) {
        if (!Files.isDirectory(h.host(), NOFOLLOW)) {
          throw new NotDirectoryException(dir.toString());
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(h.host())) {
          ds.forEach(e -> names.add(e.getFileName().toString()));
        }
      }
      names.addAll(tree.children(r.guest()));
      for (String n : names) {
        Path entry = dir.resolve(n);
        if (filter.accept(entry)) {
          entries.add(entry);
        }
      }
    }
    return new DirectoryStream<>() {
      @Override
      public Iterator<Path> iterator() {
        return entries.iterator();
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    synchronized (lock) {
      Resolved r = resolve(dir, false);
      if (r.where() instanceof Virtual || r.where() instanceof InMemory) {
        throw new FileAlreadyExistsException(dir.toString());
      }
      Files.createDirectory(namespaceWritable(dir, r), attrs);
    }
  }

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
      throws IOException {
    synchronized (lock) {
      Path host = namespaceWritable(link, resolve(link, false));
      // The target is stored as text and only ever interpreted by resolve(), in guest space.
      try {
        Files.createSymbolicLink(host, Path.of(target.toString()), attrs);
      } catch (InvalidPathException e) {
        throw new FileSystemException(link.toString(), null, "invalid link target");
      }
    }
  }

  @Override
  public void createLink(Path link, Path existing) throws IOException {
    synchronized (lock) {
      Path host = namespaceWritable(link, resolve(link, false));
      // A hard link shares the file: allowing one to a file the guest may not write would let it
      // write that file through the new name.
      Path target = namespaceWritable(existing, resolve(existing, false));
      Files.createLink(host, target);
    }
  }

  @Override
  public void delete(Path path) throws IOException {
    synchronized (lock) {
      Resolved r = resolve(path, false);
      if (r.where() instanceof Missing) {
        throw new NoSuchFileException(path.toString());
      }
      Files.delete(namespaceWritable(path, r));
    }
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    throw new FileSystemException(source.toString(), null, "copy is not supported on the guest");
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    synchronized (lock) {
      Resolved from = resolve(source, false);
      if (from.where() instanceof Missing) {
        throw new NoSuchFileException(source.toString());
      }
      Path src = namespaceWritable(source, from);
      Path dst = namespaceWritable(target, resolve(target, false));
      Files.move(src, dst, options);
    }
  }

  @Override
  public Path readSymbolicLink(Path link) throws IOException {
    synchronized (lock) {
      Resolved r = resolve(link, false);
      if (!(r.where() instanceof OnHost h) || !Files.isSymbolicLink(h.host())) {
        throw new NotLinkException(link.toString());
      }
      GuestPath target = GuestPath.parse(fs, Files.readSymbolicLink(h.host()).toString());
      if (target.isAbsolute()) {
        return target;
      }
      // Relative to the link's directory, as the kernel would read it; callers (Chicory) then
      // use the result as a path, so it must not depend on any working directory.
      List<String> names = new ArrayList<>(r.guest().subList(0, r.guest().size() - 1));
      names.addAll(target.names());
      return new GuestPath(fs, true, names);
    }
  }

  @Override
  public boolean isSameFile(Path path, Path path2) throws IOException {
    synchronized (lock) {
      Resolved a = resolve(path, true);
      Resolved b = resolve(path2, true);
      if (a.where() instanceof OnHost ha && b.where() instanceof OnHost hb) {
        return Files.isSameFile(ha.host(), hb.host());
      }
      return a.guest().equals(b.guest());
    }
  }

  @Override
  public boolean isHidden(Path path) {
    Path name = path.getFileName();
    return name != null && name.toString().startsWith(".");
  }

  @Override
  public FileStore getFileStore(Path path) {
    throw new UnsupportedOperationException("the guest filesystem has no file stores");
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    boolean write = Arrays.asList(modes).contains(AccessMode.WRITE);
    synchronized (lock) {
      Resolved r = resolve(path, true);
      Location where = r.where();
      if (where instanceof Missing) {
        throw new NoSuchFileException(path.toString());
      }
      if (where instanceof OnHost h) {
        if (write && !h.mount().writable()) {
          throw new AccessDeniedException(path.toString(), null, "read-only mount");
        }
        h.host().getFileSystem().provider().checkAccess(h.host(), modes);
        return;
      }
      if (write
          || (Arrays.asList(modes).contains(AccessMode.EXECUTE) && where instanceof InMemory)) {
        throw new AccessDeniedException(path.toString());
      }
    }
  }

  @Override
  public <V extends FileAttributeView> @Nullable V getFileAttributeView(
      Path path, Class<V> type, LinkOption... options) {
    if (type != BasicFileAttributeView.class) {
      return null;
    }
    boolean follow = follows(options);
    BasicFileAttributeView view =
        new BasicFileAttributeView() {
          @Override
          public String name() {
            return "basic";
          }

          @Override
          public BasicFileAttributes readAttributes() throws IOException {
            return GuestFileSystemProvider.this.readAttributes(
                path, BasicFileAttributes.class, options);
          }

          @Override
          public void setTimes(
              @Nullable FileTime lastModifiedTime,
              @Nullable FileTime lastAccessTime,
              @Nullable FileTime createTime)
              throws IOException {
            synchronized (lock) {
              Path host = writableHost(path, resolve(path, follow));
              Files.getFileAttributeView(host, BasicFileAttributeView.class, NOFOLLOW)
                  .setTimes(lastModifiedTime, lastAccessTime, createTime);
            }
          }
        };
    return type.cast(view);
  }

  /** The host path of an existing location whose content the guest may change. */
  private static Path writableHost(Path p, Resolved r) throws IOException {
    Path host = onHost(p, r);
    if (!((OnHost) r.where()).mount().writable()) {
      throw new AccessDeniedException(p.toString(), null, "read-only mount");
    }
    return host;
  }

  @Override
  public <A extends BasicFileAttributes> A readAttributes(
      Path path, Class<A> type, LinkOption... options) throws IOException {
    synchronized (lock) {
      Resolved r = resolve(path, follows(options));
      Location where = r.where();
      if (where instanceof OnHost h) {
        return Files.readAttributes(h.host(), type, NOFOLLOW);
      }
      if (where instanceof Missing) {
        throw new NoSuchFileException(path.toString());
      }
      if (!type.isAssignableFrom(SyntheticAttributes.class)) {
        throw new UnsupportedOperationException(type.getName() + " on " + path);
      }
      return type.cast(SyntheticAttributes.of(where));
    }
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
      throws IOException {
    synchronized (lock) {
      Resolved r = resolve(path, follows(options));
      Location where = r.where();
      if (where instanceof OnHost h) {
        return Files.readAttributes(h.host(), attributes, NOFOLLOW);
      }
      if (where instanceof Missing) {
        throw new NoSuchFileException(path.toString());
      }
      return SyntheticAttributes.of(where).asMap();
    }
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
      throws IOException {
    synchronized (lock) {
      Path host = writableHost(path, resolve(path, follows(options)));
      Files.setAttribute(host, attribute, value, NOFOLLOW);
    }
  }

  private GuestPath cast(Path p) {
    if (!(p instanceof GuestPath g) || g.getFileSystem() != fs) {
      throw new ProviderMismatchException("not a path of this guest filesystem: " + p);
    }
    return g.isAbsolute() ? g : (GuestPath) g.toAbsolutePath();
  }
}
