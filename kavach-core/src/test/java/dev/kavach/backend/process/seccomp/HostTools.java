package dev.kavach.backend.process.seccomp;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Host programs and headers the seccomp tests use; absent ones skip, except in CI. */
final class HostTools {
  private HostTools() {}

  /**
   * Skips the test when {@code present} is false, saying why; fails instead under {@code CI=true},
   * because {@code .ci/run} installs everything these tests use.
   */
  static void require(boolean present, String reason) {
    if (!present && "true".equals(System.getenv("CI"))) {
      fail("must run in CI (.ci/run installs it), but: " + reason);
    }
    assumeTrue(present, reason);
  }

  /** An executable on the PATH. */
  static Optional<Path> onPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    for (String dir : new String[] {"/usr/bin", "/bin", "/usr/sbin"}) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
