package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@code kavach-launch} binary: found in the jar for this machine's architecture, extracted
 * once into a private cache directory named by its SHA-256, and verified against that hash before
 * use. The system property {@value #PROPERTY} points at a development build instead.
 *
 * <p>The cache directory and every directory we create on the way are {@code 0700} and must be
 * owned by this JVM's user; a binary whose hash does not match (tampered or half-written) is
 * replaced, never run.
 */
final class Launcher {
  /** System property naming a launcher binary to use instead of the one in the jar. */
  static final String PROPERTY = "kavach.launcher";

  private static final String BINARY = "kavach-launch";
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(20);

  private final Path path;

  private Launcher(Path path) {
    this.path = path;
  }

  /** The launcher at this path, as is (tests, development builds). */
  static Launcher at(Path path) {
    return new Launcher(path);
  }

  /**
   * The launcher to use: the {@value #PROPERTY} override, or the jar's binary, extracted and
   * verified.
   *
   * @throws KavachException with {@link Reason#BACKEND_UNAVAILABLE} if there is none for this
   *     architecture or it cannot be extracted
   */
  static Launcher locate() {
    String override = System.getProperty(PROPERTY);
    if (override != null && !override.isBlank()) {
      Path p = Path.of(override).toAbsolutePath();
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        throw new KavachException(
            Reason.BACKEND_UNAVAILABLE,
            "-D" + PROPERTY + "=" + override + " is not an executable file");
      }
      return new Launcher(p);
    }
    String resource = "/dev/kavach/native/" + arch() + "/" + BINARY;
    byte[] bytes;
    try (InputStream in = Launcher.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new KavachException(
            Reason.BACKEND_UNAVAILABLE,
            "no kavach-launch for "
                + arch()
                + " in this build (resource "
                + resource
                + "); build on this architecture or set -D"
                + PROPERTY);
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, "cannot read " + resource + ": " + e.getMessage(), e);
    }
    try {
      return new Launcher(extract(bytes, cacheRoot()));
    } catch (IOException e) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, "cannot extract kavach-launch: " + e.getMessage(), e);
    }
  }

  /** The binary's path. */
  Path path() {
    return path;
  }

  /**
   * Runs {@code kavach-launch --probe}: what this host supports, each fact tried for real. Never
   * throws; a launcher that cannot run is reported as such.
   */
  HostSupport probe() {
    try {
      Exec.Result r =
          Exec.run(
              Exec.command(List.of(path.toString(), "--probe"))
                  .env(Map.of())
                  .timeout(PROBE_TIMEOUT)
                  .outputLimit(64 * 1024)
                  .build());
      if (r.timedOut() || r.exitValue() != 0) {
        return HostSupport.failed(
            "kavach-launch --probe failed (exit "
                + r.exitValue()
                + (r.timedOut() ? ", timed out" : "")
                + "): "
                + r.stderrText().strip());
      }
      return HostSupport.parse(r.stdoutText());
    } catch (KavachException e) {
      return HostSupport.failed("cannot run kavach-launch: " + e.getMessage());
    }
  }

  /** The machine name the build uses for the binary's directory ({@code uname -m} style). */
  static String arch() {
    String a = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return switch (a) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> a;
    };
  }

  /**
   * Writes the binary into {@code root/<sha256>/kavach-launch} unless a verified copy is there. The
   * file is written under a temporary name and renamed, so a concurrent JVM never runs a
   * half-written binary.
   */
  static Path extract(byte[] bytes, Path root) throws IOException {
    String hash = sha256(bytes);
    Path dir = privateDirectory(root.resolve(hash));
    Path target = dir.resolve(BINARY);
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
      if (hash.equals(sha256(Files.readAllBytes(target)))) {
        return target;
      }
      Files.delete(target); // tampered or torn: replace, never run
    }
    Path tmp = Files.createTempFile(dir, BINARY, ".tmp");
    try {
      Files.write(tmp, bytes, StandardOpenOption.TRUNCATE_EXISTING);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-x------"));
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    if (!hash.equals(sha256(Files.readAllBytes(target)))) {
      throw new IOException("extracted " + target + " does not match its hash " + hash);
    }
    return target;
  }

  /** {@code $XDG_CACHE_HOME/kavach/launcher}, else {@code ~/.cache/...}, else the temp dir. */
  private static Path cacheRoot() throws IOException {
    String xdg = System.getenv("XDG_CACHE_HOME");
    @Nullable Path base = null;
    if (xdg != null && xdg.startsWith("/")) {
      base = Path.of(xdg);
    } else {
      String home = System.getProperty("user.home");
      if (home != null && !home.isEmpty() && Files.isWritable(Path.of(home))) {
        base = Path.of(home, ".cache");
      }
    }
    if (base == null) {
      // A shared directory: the per-user directory in it must be ours alone, checked below.
      base =
          privateDirectory(
              Path.of(System.getProperty("java.io.tmpdir"), "kavach-" + HostProbe.system().uid()));
    } else {
      Files.createDirectories(base);
    }
    return privateDirectory(privateDirectory(base.resolve("kavach")).resolve("launcher"));
  }

  /** Creates (or checks) a directory that only this JVM's user can use. */
  private static Path privateDirectory(Path dir) throws IOException {
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // Checked below.
    }
    PosixFileAttributes a =
        Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    int me = HostProbe.system().uid();
    if (!a.isDirectory() || owner != me) {
      throw new IOException(dir + " is not a directory owned by uid " + me);
    }
    if (!a.permissions().equals(OWNER_ONLY)) {
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }
    return dir;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  @Override
  public String toString() {
    return "Launcher[" + path + "]";
  }
}
