package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.fs.Trees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The private directory through which one exec's secrets, environment and seccomp program reach the
 * launcher, and its status report comes back: {@code /dev/shm/kavach-<exec-id>}, mode 0700, files
 * 0600. It is on tmpfs because secrets must never reach a persistent disk; when there is no tmpfs
 * at {@code /dev/shm} the exec fails rather than falling back to disk. The launcher unlinks the
 * input files as it reads them; {@link #close} removes the rest.
 */
final class RunDir implements AutoCloseable {
  /** Where run directories live; must be tmpfs. */
  static final Path BASE = Path.of("/dev/shm");

  /** The prefix of every run directory, for leak checks. */
  static final String PREFIX = "kavach-";

  /** The names this package writes into a run directory. */
  static final List<String> FILES = List.of("status", "env", "secrets", "seccomp.bpf");

  private final Path dir;
  private final int uid;
  private final int gid;

  private RunDir(Path dir, int uid, int gid) {
    this.dir = dir;
    this.uid = uid;
    this.gid = gid;
  }

  /**
   * Checks that {@link #BASE} is a tmpfs (once per sandbox: finding a file store reads the mount
   * table).
   */
  static void checkBase() {
    if (!isTmpfs(BASE)) {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          BASE + " is not a tmpfs; refusing to write secrets and the environment to disk");
    }
  }

  /** Creates the run directory of one exec, owned by this JVM's user. */
  static RunDir create(String execId) {
    return create(execId, -1, -1);
  }

  /**
   * Creates the run directory of one exec ({@link #checkBase} must have passed). With an owner (not
   * -1), the directory and every file written into it are given to that uid and gid: the launcher
   * reads them after it has dropped root for the sandbox's uid, and nothing else on the host runs
   * as that uid.
   */
  static RunDir create(String execId, int uid, int gid) {
    Path dir = BASE.resolve(PREFIX + execId);
    RunDir run = new RunDir(dir, uid, gid);
    try {
      Files.createDirectory(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      run.own(dir);
    } catch (IOException e) {
      throw new KavachException(
          Reason.LAUNCH_FAILED, "cannot create run directory " + dir + ": " + e, e);
    }
    return run;
  }

  private void own(Path p) throws IOException {
    if (uid >= 0) {
      Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }
  }

  private static boolean isTmpfs(Path p) {
    try {
      return Files.getFileStore(p).type().equals("tmpfs");
    } catch (IOException e) {
      return false;
    }
  }

  /** The directory. */
  Path path() {
    return dir;
  }

  /** Writes a new 0600 file. */
  Path write(String name, byte[] content) {
    Path file = dir.resolve(name);
    try (OutputStream out =
        Files.newOutputStream(
            Files.createFile(
                file,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
            StandardOpenOption.WRITE)) {
      out.write(content);
      own(file);
    } catch (IOException e) {
      throw new KavachException(Reason.LAUNCH_FAILED, "cannot write " + file + ": " + e, e);
    }
    return file;
  }

  /** Reads a file the launcher wrote, or "" when it does not exist. */
  String read(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (java.nio.file.NoSuchFileException e) {
      return "";
    } catch (IOException e) {
      throw new KavachException(Reason.LAUNCH_FAILED, "cannot read " + name + ": " + e, e);
    }
  }

  /** Removes the directory and whatever is left in it. */
  @Override
  public void close() {
    try {
      // The launcher unlinked what it read; usually only the status file is left.
      for (String name : FILES) {
        Files.deleteIfExists(dir.resolve(name));
      }
      try {
        // Gone already if the launcher abandoned it (it does when it outlives its JVM's reading).
        Files.deleteIfExists(dir);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        Trees.deleteRecursively(dir);
      }
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot remove run directory " + dir + ": " + e, e);
    }
  }
}
