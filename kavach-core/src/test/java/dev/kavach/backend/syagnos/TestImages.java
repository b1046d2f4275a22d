package dev.kavach.backend.syagnos;

import dev.kavach.internal.container.ContainerLeftovers;
import dev.kavach.internal.container.RuntimeCommands;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.fs.Trees;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A private podman store for one test class (its own {@code --root}, {@code --runroot} and {@code
 * --tmpdir} on tmpfs, removed afterwards), with images built locally from a busybox-static root
 * filesystem: no registry is involved.
 */
final class TestImages implements AutoCloseable {
  /** podman's default (rootful) store. */
  static final Path DEFAULT_STORE = Path.of("/var/lib/containers/storage");

  /**
   * The blob cache that {@code podman import} writes outside any {@code --root}; removed after the
   * tests when they created it.
   */
  private static final Path BLOB_CACHE =
      Path.of("/var/lib/containers/cache/blob-info-cache-v1.boltdb");

  private final Path dir;
  private final @Nullable Path podman;
  private final boolean blobCacheExisted = Files.exists(BLOB_CACHE);

  private TestImages(Path dir, @Nullable Path podman) {
    this.dir = dir;
    this.podman = podman;
  }

  /** A new store; without podman on this host, a store whose images cannot be built. */
  static TestImages create() {
    Path dir =
        Path.of(
            "/dev/shm",
            "kavach-podman-test-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Optional<Path> podman = HostProbe.system().which("podman");
    return new TestImages(dir, podman.orElse(null));
  }

  /** The global podman arguments of this store. */
  List<String> podmanArgs() {
    return List.of(
        "--root", dir.resolve("root").toString(),
        "--runroot", dir.resolve("run").toString(),
        "--tmpdir", dir.resolve("tmp").toString());
  }

  /**
   * Checks, after each test, that no container of the test is left in this store, nor in podman's
   * default store when that exists (listing an absent default store would create it).
   */
  ContainerLeftovers leftovers() {
    List<List<String>> lists = new ArrayList<>();
    List<String> mine = new ArrayList<>(List.of("podman"));
    mine.addAll(podmanArgs());
    mine.addAll(List.of("ps", "--all", "--format", "{{.Names}}"));
    lists.add(mine);
    if (Files.exists(DEFAULT_STORE)) {
      lists.add(List.of("podman", "ps", "--all", "--format", "{{.Names}}"));
    }
    return new ContainerLeftovers(lists);
  }

  /**
   * Imports an image whose root is busybox-static, with {@code release} as its {@code
   * /etc/sy-agnos-release} (none when null).
   *
   * @return the image's name, or empty when podman or busybox is missing here
   */
  Optional<String> build(String name, @Nullable String release) {
    Optional<Path> busybox = HostProbe.system().which("busybox");
    if (podman == null || busybox.isEmpty()) {
      return Optional.empty();
    }
    try {
      Path rootfs = dir.resolve("rootfs-" + name);
      Path bin = Files.createDirectories(rootfs.resolve("bin"));
      Files.createDirectories(rootfs.resolve("etc"));
      Files.copy(busybox.get(), bin.resolve("busybox"));
      Exec.Result list = RuntimeCommands.run(List.of(busybox.get().toString(), "--list"));
      for (String applet : list.stdoutText().split("\n")) {
        if (!applet.isBlank() && !applet.equals("busybox")) {
          Files.createSymbolicLink(bin.resolve(applet.trim()), Path.of("busybox"));
        }
      }
      if (release != null) {
        Files.writeString(rootfs.resolve("etc/sy-agnos-release"), release, StandardCharsets.UTF_8);
      }
      Path tar = dir.resolve(name + ".tar");
      RuntimeCommands.check(
          dev.kavach.KavachException.Reason.IO,
          "tar",
          List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."));
      String image = "localhost/kavach-test-" + name + ":1";
      List<String> imp = new ArrayList<>(List.of(podman.toString()));
      imp.addAll(podmanArgs());
      imp.addAll(List.of("import", tar.toString(), image));
      RuntimeCommands.check(dev.kavach.KavachException.Reason.IO, "podman import", imp);
      Trees.deleteRecursively(rootfs);
      Files.delete(tar);
      return Optional.of(image);
    } catch (IOException e) {
      throw new IllegalStateException("cannot build test image " + name, e);
    }
  }

  /** Removes every container and image of the store, then the store. */
  @Override
  public void close() throws IOException {
    if (podman != null && Files.isDirectory(dir)) {
      for (List<String> sub :
          List.of(
              List.of("rm", "--all", "--force", "--time", "0"),
              List.of("rmi", "--all", "--force"))) {
        List<String> cmd = new ArrayList<>(List.of(podman.toString()));
        cmd.addAll(podmanArgs());
        cmd.addAll(sub);
        RuntimeCommands.run(cmd);
      }
    }
    // Never delete through a mount that is still there (podman's overlay).
    String mounts = HostProbe.read("/proc/self/mounts");
    for (String line : mounts.split("\n")) {
      String[] f = line.split(" ");
      if (f.length > 1 && f[1].startsWith(dir.toString())) {
        RuntimeCommands.run(List.of("umount", "-l", f[1]));
      }
    }
    Trees.deleteRecursively(dir);
    if (!blobCacheExisted && Files.exists(BLOB_CACHE)) {
      Files.delete(BLOB_CACHE);
      deleteIfEmpty(BLOB_CACHE.getParent());
      deleteIfEmpty(BLOB_CACHE.getParent().getParent());
    }
  }

  private static void deleteIfEmpty(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      if (s.findAny().isEmpty()) {
        Files.delete(dir);
      }
    }
  }
}
