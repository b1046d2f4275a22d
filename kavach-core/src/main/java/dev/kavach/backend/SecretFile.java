package dev.kavach.backend;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A secret to place as a file inside the sandbox.
 *
 * @param path absolute path inside the sandbox
 * @param mode permission bits, for example {@code 0400}
 * @param content the secret; the backend must not write it to the host's persistent disk
 */
// Byte arrays rather than immutable copies: outputs reach megabytes and are never shared.
@SuppressWarnings("ArrayRecordComponent")
public record SecretFile(String path, int mode, byte[] content) {

  /** Validates the path and mode. */
  public SecretFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(content, "content");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("secret file path (" + path + ") must be absolute");
    }
    if ((mode & ~0777) != 0) {
      throw new IllegalArgumentException("secret file mode must be within 0777");
    }
  }

  /**
   * Encodes files for kavach's native helpers (the launcher and the container agent), which read
   * {@code <octal mode> <length> <path>\n<bytes>} per file.
   */
  public static byte[] encode(List<SecretFile> files) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (SecretFile f : files) {
      String header =
          Integer.toOctalString(f.mode()) + " " + f.content().length + " " + f.path() + "\n";
      out.writeBytes(header.getBytes(StandardCharsets.UTF_8));
      out.writeBytes(f.content());
    }
    return out.toByteArray();
  }

  /** Never shows the content. */
  @Override
  public String toString() {
    return "SecretFile[path=" + path + ", mode=" + Integer.toOctalString(mode) + "]";
  }
}
