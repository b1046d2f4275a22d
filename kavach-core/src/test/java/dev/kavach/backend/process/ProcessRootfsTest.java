package dev.kavach.backend.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.policy.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A provider with its own root filesystem: the command sees it, not the host's directories. */
@Timeout(120)
class ProcessRootfsTest {
  @TempDir Path rootfs;

  /** A root filesystem of one static busybox and its applets. */
  private void buildRootfs() throws IOException {
    Path busybox = Path.of("/bin/busybox");
    assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
    Path bin = Files.createDirectories(rootfs.resolve("bin"));
    Files.copy(busybox, bin.resolve("busybox"));
    for (String applet : List.of("sh", "ls", "cat", "id", "touch", "echo")) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(rootfs.resolve("etc/os-release"), "NAME=kavach-test-rootfs\n");
    // Its own proc and tmp are replaced by the sandbox's.
    Files.createDirectories(rootfs.resolve("proc/not-the-sandboxes"));
    Files.setPosixFilePermissions(
        rootfs, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void theCommandSeesTheRootfsReadOnlyAndNothingOfTheHost() throws IOException {
    buildRootfs();
    ProcessBackendProvider provider = new ProcessBackendProvider(rootfs);
    assumeTrue(provider.probe().available(), provider.probe().reason());
    try (Sandbox s =
        Sandbox.create(
            SandboxConfig.builder().policy(SandboxPolicy.strict()).build(),
            Backends.of(List.of(provider)))) {
      s.start();
      ExecResult r =
          s.exec(
              List.of(
                  "/bin/sh",
                  "-c",
                  "ls /; cat /etc/os-release; ls /usr 2>&1; touch /bin/x 2>&1;"
                      + " touch /workspace/ok && echo ws-ok; ls /proc | grep -c not-the"));
      assertThat(r.stdoutText())
          .isEqualTo(
              "bin\ndev\netc\nproc\ntmp\nworkspace\n"
                  + "NAME=kavach-test-rootfs\n"
                  + "ls: /usr: No such file or directory\n"
                  + "touch: /bin/x: Read-only file system\n"
                  + "ws-ok\n"
                  + "0\n");
      assertThat(r.enforcement().seccompProfile()).isEqualTo("strict");
      assertThat(r.enforcement().readOnlyRoot()).isTrue();
    }
  }
}
