package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.KavachException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extraction of the launcher into a private, hash-named cache directory, and its override. */
class LauncherExtractTest {
  @TempDir Path root;

  @Test
  void extractsIntoAPrivateDirectoryNamedByTheHash() throws Exception {
    byte[] binary = "#!/bin/sh\necho launcher\n".getBytes(StandardCharsets.UTF_8);
    Path p = Launcher.extract(binary, root);
    assertThat(p.getParent().getFileName().toString()).isEqualTo(Launcher.sha256(binary));
    assertThat(p).hasBinaryContent(binary);
    assertThat(Files.getPosixFilePermissions(p.getParent(), LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(p))
        .isEqualTo(PosixFilePermissions.fromString("r-x------"));
    assertThat(Launcher.extract(binary, root)).isEqualTo(p); // verified, reused
  }

  @Test
  void aTamperedCopyIsReplacedNeverRun() throws Exception {
    byte[] binary = "#!/bin/sh\necho launcher\n".getBytes(StandardCharsets.UTF_8);
    Path p = Launcher.extract(binary, root);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    Files.writeString(p, "#!/bin/sh\necho evil\n");
    assertThat(Launcher.extract(binary, root)).hasBinaryContent(binary);
  }

  @Test
  void aLooseCacheDirectoryIsMadePrivate() throws Exception {
    byte[] binary = {1, 2, 3};
    Path dir = Files.createDirectory(root.resolve(Launcher.sha256(binary)));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Launcher.extract(binary, root);
    assertThat(Files.getPosixFilePermissions(dir))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
  }

  @Test
  void theOverridePropertyMustNameAnExecutable() {
    String old = System.getProperty(Launcher.PROPERTY);
    try {
      System.setProperty(Launcher.PROPERTY, root.resolve("missing").toString());
      assertThatThrownBy(Launcher::locate)
          .isInstanceOf(KavachException.class)
          .hasMessageContaining("is not an executable file");
    } finally {
      if (old == null) {
        System.clearProperty(Launcher.PROPERTY);
      } else {
        System.setProperty(Launcher.PROPERTY, old);
      }
    }
  }

  @Test
  void theJarCarriesALauncherForThisMachine() {
    assertThat(
            Launcher.class.getResource("/dev/kavach/native/" + Launcher.arch() + "/kavach-launch"))
        .isNotNull();
  }
}
