package dev.kavach.internal.fs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/** Directory trees written by sandboxed code: created private, deleted without following links. */
public final class Trees {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private Trees() {}

  /** Creates a fresh directory readable only by its owner. */
  public static Path createPrivateTempDirectory(String prefix) throws IOException {
    return Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
  }

  /**
   * Deletes a tree. Symbolic links are removed, never followed, so a link planted by sandboxed code
   * cannot make us delete outside the tree. Directories the sandbox made unreadable (mode 000) are
   * made accessible to the owner first.
   */
  public static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            if (!Files.isReadable(dir) || !Files.isExecutable(dir) || !Files.isWritable(dir)) {
              Set<PosixFilePermission> perms =
                  EnumSet.copyOf(Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS));
              perms.addAll(OWNER_ONLY);
              Files.setPosixFilePermissions(dir, perms);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            if (e instanceof AccessDeniedException) {
              Files.setPosixFilePermissions(file, OWNER_ONLY);
              deleteRecursively(file);
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null && !(e instanceof NoSuchFileException)) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
