package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.exec.Exec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The directory the root drive is built from: either a copy of a user-supplied tree ({@code
 * kavach.microvm.rootfs-dir}, e.g. an unpacked distribution) or the host's static busybox with a
 * link per applet. The agent is added at {@code /sbin/kavach-agent} by the caller. The drive is
 * read-only in the guest, so it is a read-only view of these host tools.
 */
public final class RootTree {
  /** Mount points the agent uses; a read-only root cannot create them at boot. */
  public static final List<String> MOUNT_POINTS = List.of("proc", "sys", "dev", "tmp", "workspace");

  private RootTree() {}

  public static void populate(Path tree, @Nullable Path rootfsDir, GuestHost host)
      throws IOException {
    if (rootfsDir != null) {
      Exec.Result r =
          Exec.run(
              Exec.command(List.of("cp", "-a", rootfsDir + "/.", tree.toString()))
                  .timeout(Duration.ofMinutes(5))
                  .build());
      if (r.exitValue() != 0) {
        throw new KavachException(
            Reason.LAUNCH_FAILED, "cannot copy " + rootfsDir + ": " + r.stderrText().strip());
      }
    } else {
      Path busybox =
          staticBusybox(host)
              .orElseThrow(
                  () ->
                      new KavachException(
                          Reason.LAUNCH_FAILED, "no statically linked busybox for the guest"));
      Path bin = Files.createDirectories(tree.resolve("bin"));
      Files.copy(busybox, bin.resolve("busybox"));
      for (String a : applets(host, busybox)) {
        Path link = bin.resolve(a);
        if (!Files.exists(link)) {
          Files.createSymbolicLink(link, Path.of("busybox"));
        }
      }
      Files.createDirectories(tree.resolve("usr"));
      Files.createSymbolicLink(tree.resolve("usr/bin"), Path.of("../bin"));
    }
    Files.createDirectories(tree.resolve("sbin"));
    for (String m : MOUNT_POINTS) {
      Files.createDirectories(tree.resolve(m));
    }
  }

  /** The applet names busybox offers (each becomes a {@code /bin/NAME -> busybox} link). */
  public static List<String> applets(GuestHost host, Path busybox) {
    List<String> out = new java.util.ArrayList<>();
    for (String applet : host.run(List.of(busybox.toString(), "--list")).split("\n")) {
      String a = applet.strip();
      // Names become file names: nothing with a slash, nothing hidden.
      if (a.matches("[A-Za-z0-9_\\[\\]][A-Za-z0-9_.\\[\\]-]*") && !a.equals("busybox")) {
        out.add(a);
      }
    }
    return out;
  }

  /** The host's busybox if it is statically linked (the guest has no libc of its own). */
  public static Optional<Path> staticBusybox(GuestHost host) {
    return host.tool("busybox").filter(RootTree::isStatic);
  }

  /** Whether an ELF executable has no program interpreter (PT_INTERP), i.e. is static. */
  public static boolean isStatic(Path elf) {
    try {
      byte[] b = Files.readAllBytes(elf);
      ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      if (b.length < 64 || h.getInt(0) != 0x464c457f || b[4] != 2) {
        return false; // not a 64-bit ELF
      }
      long phoff = h.getLong(32);
      int phentsize = h.getShort(54) & 0xffff;
      int phnum = h.getShort(56) & 0xffff;
      for (int i = 0; i < phnum; i++) {
        long off = phoff + (long) i * phentsize;
        if (off + 4 > b.length) {
          return false;
        }
        if (h.getInt((int) off) == 3) {
          return false; // PT_INTERP: needs a dynamic loader
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
