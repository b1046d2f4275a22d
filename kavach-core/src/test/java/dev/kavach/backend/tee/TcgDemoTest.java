package dev.kavach.backend.tee;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.RootTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manual demonstration, not part of CI: kavach's initrd (the agent as {@code /init}) booted by a
 * stock Debian kernel under QEMU's software emulator (TCG), the agent running one command as PID 1
 * through its real session code ({@code kavach.selftest}) and powering the guest off. No vsock here
 * (no vhost-vsock on the host, and the stock kernel has virtio-vsock as a module the initrd does
 * not load). A TCG boot takes seconds, so this runs only with {@code -Dkavach.demo.tcg=true} and a
 * kernel in {@code /boot}.
 *
 * <pre>
 * apt-get install qemu-system-x86 linux-image-amd64
 * mvn verify -pl kavach-core -am -Dtest=TcgDemoTest -Dkavach.demo.tcg=true
 * </pre>
 */
@Timeout(420)
class TcgDemoTest {

  @Test
  void agentRunsAsPid1InARealGuest(@TempDir Path dir) throws Exception {
    assumeTrue(Boolean.getBoolean("kavach.demo.tcg"), "manual demo: -Dkavach.demo.tcg=true");
    GuestHost host = GuestHost.system();
    Path qemu = host.tool("qemu-system-x86_64").orElseThrow();
    Path kernel;
    try (var s = Files.list(Path.of("/boot"))) {
      kernel =
          s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
              .findFirst()
              .orElseThrow();
    }
    Path busybox = RootTree.staticBusybox(host).orElseThrow();
    Path initrd = dir.resolve("initrd.cpio");
    Files.write(
        initrd,
        Initrd.build(
            AgentBinary.bytes(), Files.readAllBytes(busybox), RootTree.applets(host, busybox)));
    // -M pc, not microvm: under TCG the microvm machine offers the kernel no timer to calibrate
    // the TSC against (no PIT, HPET or PM timer) and the boot stalls there. A hung boot is
    // retried, and reported.
    Exec.Result r = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      r =
          Exec.run(
              Exec.command(
                      List.of(
                          qemu.toString(),
                          "-M",
                          "pc",
                          "-accel",
                          "tcg",
                          "-m",
                          "256",
                          "-kernel",
                          kernel.toString(),
                          "-initrd",
                          initrd.toString(),
                          "-append",
                          "console=ttyS0 panic=1 loglevel=3 kavach.selftest",
                          "-display",
                          "none",
                          "-monitor",
                          "none",
                          "-serial",
                          "stdio",
                          "-net",
                          "none",
                          "-no-reboot"))
                  .timeout(Duration.ofMinutes(2))
                  .outputLimit(1 << 20)
                  .build());
      System.out.println(
          "attempt "
              + attempt
              + ": qemu exit "
              + r.exitValue()
              + " after "
              + r.duration()
              + (r.timedOut() ? " (hung, killed)" : ""));
      if (!r.timedOut()) {
        break;
      }
    }
    String console = r.stdoutText();
    System.out.println(console);
    assertThat(r.timedOut()).as("guest hung (TCG boots hang about half the time here)").isFalse();
    // PID 1's comm is "init": the agent is the initrd's /init.
    assertThat(console).contains("kavach-agent selftest stdout: init=init");
    assertThat(console).contains("proc on /proc type proc").contains("devtmpfs on /dev");
    assertThat(console).contains("kavach-agent selftest: exit code=0 signal=0");
  }
}
