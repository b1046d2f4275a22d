package dev.kavach.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreesTest {
  @Test
  void deletesWithoutFollowingLinksAndThroughLockedDirectories(@TempDir Path outside)
      throws Exception {
    Path victim = Files.writeString(outside.resolve("victim.txt"), "keep me");
    Path tree = Trees.createPrivateTempDirectory("kavach-test-");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tree)))
        .isEqualTo("rwx------");
    Files.createSymbolicLink(tree.resolve("link-to-file"), victim);
    Files.createSymbolicLink(tree.resolve("link-to-dir"), outside);
    Path locked = Files.createDirectories(tree.resolve("a/locked"));
    Files.writeString(locked.resolve("f"), "x");
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    Trees.deleteRecursively(tree);
    assertThat(tree).doesNotExist();
    assertThat(victim).hasContent("keep me");
    assertThat(outside).isDirectory();
  }

  @Test
  void deletingAMissingTreeIsANoOp() throws Exception {
    Trees.deleteRecursively(Path.of("/nonexistent/kavach/tree"));
  }
}
