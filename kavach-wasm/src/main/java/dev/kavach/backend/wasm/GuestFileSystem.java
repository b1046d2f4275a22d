package dev.kavach.backend.wasm;

import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Set;

/**
 * The guest's view of files, as a {@link FileSystem} that Chicory's WASI implementation works on.
 * Its paths are guest paths; every operation goes through {@link GuestFileSystemProvider}.
 */
final class GuestFileSystem extends FileSystem {
  private final GuestFileSystemProvider provider;

  GuestFileSystem(GuestFileSystemProvider provider) {
    this.provider = provider;
  }

  @Override
  public GuestFileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {
    // Nothing to release: the file system holds no host resource of its own.
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(new GuestPath(this, true, List.of()));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return List.of();
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return Set.of("basic");
  }

  @Override
  public Path getPath(String first, String... more) {
    StringBuilder sb = new StringBuilder(first);
    for (String m : more) {
      sb.append('/').append(m);
    }
    return GuestPath.parse(this, sb.toString());
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    throw new UnsupportedOperationException("path matchers are not supported on the guest");
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    throw new UnsupportedOperationException("the guest has no users");
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("the guest filesystem has no watch service");
  }
}
