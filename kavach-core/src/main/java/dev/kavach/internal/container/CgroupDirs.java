package dev.kavach.internal.container;

import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A sandbox's cgroup directories, {@code kavach-<sandbox-id>} at the top of every cgroup hierarchy
 * mounted on this host (v1 controllers, named hierarchies such as {@code name=systemd}, and v2).
 * Runtimes create them; some leave them behind (runsc after a sandbox dies on its own, podman's
 * {@code conmon} group under the container's parent), so destroy removes whatever is left.
 */
public final class CgroupDirs {
  /** How long removal waits for the last processes of a group to finish exiting. */
  static final java.time.Duration BUSY_WAIT = java.time.Duration.ofSeconds(5);

  private CgroupDirs() {}

  /**
   * The cgroup path (below each hierarchy's root) the runtimes use for a sandbox. Flat, with no
   * shared {@code kavach/} parent: runtimes create every missing parent and remove only the leaf,
   * so a shared parent would be left behind in every hierarchy after the last container.
   */
  public static String name(String sandboxId) {
    return "kavach-" + sandboxId;
  }

  /** The mount points of every cgroup and cgroup2 hierarchy in {@code /proc/self/mounts}. */
  public static List<String> mounts() {
    return parseMounts(HostProbe.read("/proc/self/mounts"));
  }

  /** The mount points of cgroup and cgroup2 file systems in a {@code /proc/mounts} text. */
  static List<String> parseMounts(String procMounts) {
    TreeSet<String> out = new TreeSet<>();
    for (String line : procMounts.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && (f[2].equals("cgroup") || f[2].equals("cgroup2"))) {
        out.add(f[1].replace("\\040", " "));
      }
    }
    return List.copyOf(out);
  }

  /** The directory of a sandbox in each hierarchy (whether or not it exists). */
  public static List<Path> of(String sandboxId) {
    List<Path> out = new ArrayList<>();
    for (String m : mounts()) {
      out.add(Path.of(m, name(sandboxId)));
    }
    return out;
  }

  /**
   * Removes a sandbox's cgroup directories, children first. A directory whose last process is still
   * exiting is busy (podman's conmon outlives {@code podman rm} by some milliseconds), so removal
   * is retried for up to {@link #BUSY_WAIT}; what still cannot be removed is reported.
   *
   * @return one line per directory that could not be removed
   */
  public static List<String> remove(String sandboxId) {
    long deadline = System.nanoTime() + BUSY_WAIT.toNanos();
    List<String> problems = removeOnce(sandboxId);
    while (!problems.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      problems = removeOnce(sandboxId);
    }
    return problems;
  }

  private static List<String> removeOnce(String sandboxId) {
    List<String> problems = new ArrayList<>();
    for (Path dir : of(sandboxId)) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      List<Path> tree;
      try (Stream<Path> s = Files.walk(dir)) {
        tree = s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList();
      } catch (IOException e) {
        problems.add("cannot list cgroup " + dir + ": " + e);
        continue;
      }
      for (int i = tree.size() - 1; i >= 0; i--) {
        try {
          // rmdir: a cgroup directory's control files go with it.
          Files.delete(tree.get(i));
        } catch (IOException e) {
          problems.add("cannot remove cgroup " + tree.get(i) + ": " + e);
        }
      }
    }
    return problems;
  }
}
