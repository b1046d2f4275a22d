package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.fs.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * ext4 drive images built from a host directory with {@code mkfs.ext4 -d} and read back with {@code
 * debugfs rdump}, both without mounting anything (no loop device, no root needed). Firecracker has
 * no host filesystem sharing (virtio-fs and 9p were rejected upstream for their attack surface,
 * firecracker issue 1180), so the workspace travels as a drive: copied in at start and read back
 * after every exec, once the agent has synced the guest's writes.
 */
public final class DriveImage {
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

  private DriveImage() {}

  /**
   * Builds {@code image} from {@code dir}, at least {@code minMib} big and with room to spare.
   *
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} naming mkfs.ext4's complaint
   */
  public static void build(Path mkfs, Path dir, Path image, String label, int minMib) {
    long used = sizeOf(dir);
    long mib = Math.max(minMib, used * 3 / 2 / (1 << 20) + 16);
    Exec.Result r =
        Exec.run(
            Exec.command(
                    List.of(
                        mkfs.toString(),
                        "-q",
                        "-F",
                        "-t",
                        "ext4",
                        "-L",
                        label,
                        "-d",
                        dir.toString(),
                        "-E",
                        "root_owner=0:0",
                        image.toString(),
                        mib + "M"))
                .timeout(TOOL_TIMEOUT)
                .outputLimit(64 * 1024)
                .build());
    if (r.exitValue() != 0 || r.timedOut()) {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          "mkfs.ext4 -d " + dir + " failed (" + r.exitValue() + "): " + r.stderrText().strip());
    }
  }

  /**
   * Replaces the content of {@code dir} with the image's (minus {@code lost+found}).
   *
   * @throws KavachException with {@link Reason#IO} naming debugfs's complaint
   */
  public static void readBack(Path debugfs, Path image, Path dir, Path scratch) {
    try {
      Path out = Files.createTempDirectory(scratch, "readback-");
      try {
        Exec.Result r =
            Exec.run(
                Exec.command(List.of(debugfs.toString(), "-R", "rdump / " + out, image.toString()))
                    .timeout(TOOL_TIMEOUT)
                    .outputLimit(64 * 1024)
                    .build());
        // debugfs reports errors on stderr with exit 0; a file it could not dump is named there.
        String err =
            r.stderrText().lines().filter(l -> !l.startsWith("debugfs ")).toList().toString();
        if (r.exitValue() != 0 || r.timedOut() || !err.equals("[]")) {
          throw new KavachException(Reason.IO, "debugfs rdump of " + image + " failed: " + err);
        }
        Trees.deleteRecursively(out.resolve("lost+found"));
        try (Stream<Path> old = Files.list(dir)) {
          for (Path p : old.toList()) {
            Trees.deleteRecursively(p);
          }
        }
        try (Stream<Path> fresh = Files.list(out)) {
          for (Path p : fresh.toList()) {
            Files.move(p, dir.resolve(p.getFileName()), LinkOption.NOFOLLOW_LINKS);
          }
        }
      } finally {
        Trees.deleteRecursively(out);
      }
    } catch (IOException e) {
      throw new KavachException(
          Reason.IO, "cannot copy the workspace back to " + dir + ": " + e, e);
    }
  }

  private static long sizeOf(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException e) {
      return 0;
    }
  }
}
