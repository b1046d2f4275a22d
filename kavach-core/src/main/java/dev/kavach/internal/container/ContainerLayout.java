package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.internal.fs.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The host side of one container: a private directory on tmpfs ({@code /dev/shm/kavach-<id>}, mode
 * 0700, so nothing in it ever reaches persistent disk) holding
 *
 * <ul>
 *   <li>{@code kavach-agent-oci}: this sandbox's copy of the agent, bound read-only into the
 *       container;
 *   <li>{@code run/}: the agent's spec and status files, bound read-write at {@code /.kavach/run};
 *       owned by the container's uid with mode 0300, so the container can create and open files by
 *       name but cannot list them;
 *   <li>{@code exec/}: runtime process specs, readable by root only;
 *   <li>{@code bundle/}: the OCI bundle ({@code config.json} and the empty {@code rootfs/}), for
 *       the runtimes that take one.
 * </ul>
 *
 * @param dir the private directory
 * @param workspace the host workspace, bound at {@code /workspace}
 */
public record ContainerLayout(Path dir, Path workspace) {

  /** Where sandboxes' private directories live: tmpfs. */
  public static final Path BASE = Path.of("/dev/shm");

  /** The layout of sandbox {@code sandboxId} (nothing is created). */
  public static ContainerLayout of(String sandboxId, Path workspace) {
    return new ContainerLayout(BASE.resolve("kavach-" + sandboxId), workspace);
  }

  /** The agent binary on the host. */
  public Path agent() {
    return dir.resolve("kavach-agent-oci");
  }

  /** The agent's run directory on the host. */
  public Path run() {
    return dir.resolve("run");
  }

  /** The directory for runtime process specs. */
  public Path exec() {
    return dir.resolve("exec");
  }

  /** The OCI bundle directory. */
  public Path bundle() {
    return dir.resolve("bundle");
  }

  /** The bundle's root filesystem directory. */
  public Path rootfs() {
    return bundle().resolve("rootfs");
  }

  /**
   * Creates the directory tree and copies the agent into it.
   *
   * @throws KavachException with {@link Reason#IO} if any step fails (nothing is left behind)
   */
  public void create(int uid, int gid) {
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(perms("rwx------")));
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot create " + dir + ": " + e, e);
    }
    try {
      Files.createDirectory(exec(), PosixFilePermissions.asFileAttribute(perms("rwx------")));
      Files.createDirectory(bundle(), PosixFilePermissions.asFileAttribute(perms("rwx------")));
      // The runtimes create mount points inside the root, as root; the container never sees
      // this directory's own permissions (it is the root of a read-only mount).
      Files.createDirectory(rootfs(), PosixFilePermissions.asFileAttribute(perms("rwxr-xr-x")));
      Path run = Files.createDirectory(run());
      Files.setAttribute(run, "unix:uid", uid);
      Files.setAttribute(run, "unix:gid", gid);
      Files.setPosixFilePermissions(run, perms("-wx------"));
      String resource = agentResource();
      try (InputStream in = ContainerLayout.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new KavachException(
              Reason.BACKEND_UNAVAILABLE,
              "no kavach-agent-oci for this architecture in this build (resource "
                  + resource
                  + ")");
        }
        Files.copy(in, agent(), StandardCopyOption.REPLACE_EXISTING);
      }
      Files.setPosixFilePermissions(agent(), perms("r-xr-xr-x"));
    } catch (IOException | RuntimeException e) {
      deleteQuietly();
      if (e instanceof KavachException k) {
        throw k;
      }
      throw new KavachException(Reason.IO, "cannot create " + dir + ": " + e, e);
    }
  }

  /**
   * The agent's resource for this machine's architecture, where the build puts it (next to the
   * process backend's launcher): {@code /dev/kavach/native/<uname -m>/kavach-agent-oci}.
   */
  static String agentResource() {
    String a = System.getProperty("os.arch", "").toLowerCase(java.util.Locale.ROOT);
    String arch =
        switch (a) {
          case "amd64", "x86_64" -> "x86_64";
          case "aarch64", "arm64" -> "aarch64";
          default -> a;
        };
    return "/dev/kavach/native/" + arch + "/kavach-agent-oci";
  }

  /** Removes the directory tree (the runtime must have released its mounts). */
  public void delete() throws IOException {
    Trees.deleteRecursively(dir);
  }

  private void deleteQuietly() {
    try {
      delete();
    } catch (IOException e) {
      // Creating failed; that error is the one to report.
    }
  }

  private static java.util.Set<java.nio.file.attribute.PosixFilePermission> perms(String s) {
    return PosixFilePermissions.fromString(s);
  }
}
