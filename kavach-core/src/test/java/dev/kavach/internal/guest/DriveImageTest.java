package dev.kavach.internal.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The drives are built and read back for real here: no VM is needed for that. */
@Timeout(60)
class DriveImageTest {
  private final GuestHost host = GuestHost.system();

  @Test
  void workspaceRoundTripsThroughAnExt4Image(@TempDir Path tmp) throws Exception {
    Path mkfs = host.tool("mkfs.ext4").orElseThrow();
    Path debugfs = host.tool("debugfs").orElseThrow();
    Path ws = Files.createDirectory(tmp.resolve("ws"));
    Files.writeString(ws.resolve("a.txt"), "alpha");
    Files.createDirectories(ws.resolve("sub/deeper"));
    Files.write(ws.resolve("sub/deeper/bin"), new byte[] {0, (byte) 0xff, 1});
    Files.createSymbolicLink(ws.resolve("link"), Path.of("a.txt"));
    Path image = tmp.resolve("ws.ext4");
    DriveImage.build(mkfs, ws, image, "workspace", 32);
    assertThat(Files.size(image)).isEqualTo(32L << 20);

    Path back = Files.createDirectory(tmp.resolve("back"));
    Files.writeString(back.resolve("stale"), "removed by the read-back");
    DriveImage.readBack(debugfs, image, back, tmp);
    assertThat(back.resolve("a.txt")).hasContent("alpha");
    assertThat(back.resolve("sub/deeper/bin")).hasBinaryContent(new byte[] {0, (byte) 0xff, 1});
    assertThat(Files.readSymbolicLink(back.resolve("link"))).isEqualTo(Path.of("a.txt"));
    assertThat(back.resolve("stale")).doesNotExist();
    assertThat(back.resolve("lost+found")).doesNotExist();
  }

  @Test
  void rootTreeHasTheAgentsMountPointsAndStaticTools(@TempDir Path tmp) throws Exception {
    assumeTrue(RootTree.staticBusybox(host).isPresent(), "busybox-static is not installed");
    Path tree = Files.createDirectory(tmp.resolve("root"));
    RootTree.populate(tree, null, host);
    for (String m : RootTree.MOUNT_POINTS) {
      assertThat(tree.resolve(m)).isDirectory();
    }
    assertThat(Files.readSymbolicLink(tree.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
    assertThat(tree.resolve("sbin")).isDirectory();
    Path image = tmp.resolve("root.ext4");
    DriveImage.build(host.tool("mkfs.ext4").orElseThrow(), tree, image, "kavach-root", 32);
    assertThat(image).exists();
  }

  @Test
  void staticDetectionReadsTheElfHeaders() {
    host.tool("busybox").ifPresent(b -> assertThat(RootTree.isStatic(b)).isTrue());
    assertThat(RootTree.isStatic(host.tool("ls").orElseThrow())).isFalse();
    assertThat(RootTree.isStatic(Path.of("/etc/hostname"))).isFalse();
  }
}
