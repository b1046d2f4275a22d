package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The static kavach-agent binary built from {@code native/agent} and shipped in the jar. The same
 * binary is PID 1 of microVMs and confidential guests, a test server on a Unix socket, and the
 * host-side vsock relay for QEMU.
 */
public final class AgentBinary {
  /** The file name, which is also what leak checks look for in a process's argv[0]. */
  public static final String NAME = "kavach-agent";

  private AgentBinary() {}

  /** Where the build puts the binary: {@code /dev/kavach/native/<uname -m>/kavach-agent}. */
  public static String resource() {
    String a = System.getProperty("os.arch", "").toLowerCase(java.util.Locale.ROOT);
    String arch =
        switch (a) {
          case "amd64", "x86_64" -> "x86_64";
          case "aarch64", "arm64" -> "aarch64";
          default -> a;
        };
    return "/dev/kavach/native/" + arch + "/" + NAME;
  }

  /** Whether this build has the agent. */
  public static boolean present() {
    return AgentBinary.class.getResource(resource()) != null;
  }

  /**
   * The binary's bytes.
   *
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} if this build has no agent
   */
  public static byte[] bytes() {
    try (InputStream in = AgentBinary.class.getResourceAsStream(resource())) {
      if (in == null) {
        throw new KavachException(
            Reason.LAUNCH_FAILED,
            NAME
                + " is missing from this build (native/agent is built by kavach-core's Maven build)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot read " + NAME + " from the jar: " + e, e);
    }
  }

  /**
   * Writes the binary to {@code dir/kavach-agent}, mode 0755, and checks what was written.
   *
   * @return the written file
   * @throws KavachException with {@link Reason#IO} if it cannot be written or reads back different
   */
  public static Path extract(Path dir) {
    byte[] b = bytes();
    Path target = dir.resolve(NAME);
    try {
      // CREATE_NEW is O_EXCL: an existing file or planted symlink fails instead of being followed.
      Files.write(target, b, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
      // A file swapped or damaged between write and use would run as the guest's PID 1.
      if (!MessageDigest.isEqual(sha256(b), sha256(Files.readAllBytes(target)))) {
        throw new KavachException(Reason.IO, target + " does not read back as written");
      }
      return target;
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write " + target + ": " + e, e);
    }
  }

  /** SHA-256 of some bytes. */
  public static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
