package dev.kavach.backend.tee;

import dev.kavach.internal.guest.Cpio;
import java.util.List;

/**
 * The confidential guest's initrd: kavach-agent as {@code /init} (PID 1), the directories it mounts
 * on, a console device node, and the host's static busybox with a link per applet. The archive is
 * deterministic, so with {@code kernel-hashes=on} its measurement is the same for the same agent
 * and tools.
 */
final class Initrd {
  private Initrd() {}

  static byte[] build(byte[] agent, byte[] busybox, List<String> applets) {
    Cpio c = new Cpio();
    c.file("init", 0755, agent);
    for (String d : List.of("bin", "sbin", "proc", "sys", "dev", "tmp", "workspace", "etc")) {
      c.dir(d, 0755);
    }
    // The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
    c.charDevice("dev/console", 0600, 5, 1);
    c.file("bin/busybox", 0755, busybox);
    for (String applet : applets) {
      c.symlink("bin/" + applet, "busybox");
    }
    c.symlink("sbin/kavach-agent", "../init");
    return c.toBytes();
  }
}
