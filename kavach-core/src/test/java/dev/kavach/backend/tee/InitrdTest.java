package dev.kavach.backend.tee;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.guest.Cpio;
import dev.kavach.internal.guest.GuestHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The initrd is read back by a real cpio (busybox's) and is byte-for-byte reproducible. */
@Timeout(60)
class InitrdTest {
  private static final byte[] AGENT = "#!agent\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final byte[] BUSYBOX = new byte[] {0x7f, 'E', 'L', 'F', 1, 2, 3};

  private static Path busyboxTool() {
    var b = GuestHost.system().tool("busybox");
    assumeTrue(b.isPresent(), "busybox is not installed");
    return b.get();
  }

  @Test
  void sameInputSameBytes() {
    byte[] a = Initrd.build(AGENT, BUSYBOX, List.of("sh", "cat"));
    byte[] b = Initrd.build(AGENT, BUSYBOX, List.of("cat", "sh"));
    assertThat(a).isEqualTo(b);
    assertThat(a.length % 4).isZero();
  }

  @Test
  void cpioListsAndExtractsWhatWasWritten(@TempDir Path dir) throws Exception {
    Path busybox = busyboxTool();
    Path archive = dir.resolve("initrd.cpio");
    Files.write(archive, Initrd.build(AGENT, BUSYBOX, List.of("sh", "cat")));
    Exec.Result list =
        Exec.run(
            Exec.command(List.of("/bin/sh", "-c", busybox + " cpio -tv < " + archive))
                .timeout(Duration.ofSeconds(20))
                .build());
    assertThat(list.exitValue()).as(list.stderrText()).isZero();
    String listing = list.stdoutText();
    assertThat(listing)
        .contains("-rwxr-xr-x", " init")
        .contains("crw-------", "dev/console")
        .contains("lrwxrwxrwx", "bin/sh -> busybox")
        .contains("sbin/kavach-agent -> ../init");
    Path out = Files.createDirectory(dir.resolve("out"));
    Exec.Result extract =
        Exec.run(
            Exec.command(
                    List.of(
                        "/bin/sh",
                        "-c",
                        "cd " + out + " && " + busybox + " cpio -id bin/busybox init < " + archive))
                .timeout(Duration.ofSeconds(20))
                .build());
    assertThat(extract.exitValue()).as(extract.stderrText()).isZero();
    assertThat(out.resolve("init")).hasBinaryContent(AGENT);
    assertThat(out.resolve("bin/busybox")).hasBinaryContent(BUSYBOX);
    assertThat(Files.isExecutable(out.resolve("init"))).isTrue();
  }

  @Test
  void pathsThatCouldEscapeAreRefused() {
    Cpio c = new Cpio();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.file("../etc/passwd", 0644, AGENT))
        .hasMessageContaining("relative, without ..");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.file("/init", 0755, AGENT))
        .hasMessageContaining("relative");
    c.file("init", 0755, AGENT);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.file("init", 0755, AGENT))
        .hasMessageContaining("already added");
  }
}
