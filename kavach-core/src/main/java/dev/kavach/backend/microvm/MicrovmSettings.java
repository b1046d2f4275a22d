package dev.kavach.backend.microvm;

import dev.kavach.internal.guest.GuestHost;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Host-side settings of the microvm backend, from system properties (or the matching environment
 * variables, {@code kavach.microvm.kernel} -> {@code KAVACH_MICROVM_KERNEL}).
 *
 * @param kernelCandidates where to look for the guest kernel (an uncompressed {@code vmlinux}), in
 *     order
 * @param firecracker the firecracker binary named by the user, or null to search {@code PATH}
 * @param jailer the jailer binary named by the user, or null to search {@code PATH}
 * @param useJailer whether to use the jailer when it is found (default true)
 * @param jailerUid host uid the VMM runs as under the jailer; never 0
 * @param jailerGid host gid the VMM runs as under the jailer; never 0
 * @param rootfsDir a directory copied into the root drive instead of the default busybox tree
 * @param workspaceSizeMib size of the workspace drive
 * @param bootTimeout how long the agent may take to answer after the VMM starts
 */
record MicrovmSettings(
    List<Path> kernelCandidates,
    @Nullable Path firecracker,
    @Nullable Path jailer,
    boolean useJailer,
    int jailerUid,
    int jailerGid,
    @Nullable Path rootfsDir,
    int workspaceSizeMib,
    Duration bootTimeout) {

  /** Where a kernel is looked for when {@code kavach.microvm.kernel} is not set. */
  static final List<Path> DEFAULT_KERNELS =
      List.of(
          Path.of("/var/lib/kavach/vmlinux"),
          Path.of("/usr/local/share/kavach/vmlinux"),
          Path.of("/usr/share/kavach/vmlinux"));

  /** The nobody user: an unprivileged uid for the jailed VMM unless one is configured. */
  static final int NOBODY = 65534;

  MicrovmSettings {
    kernelCandidates = List.copyOf(kernelCandidates);
    if (jailerUid == 0 || jailerGid == 0) {
      // The jailer exists to drop root; a jailed VMM running as uid 0 is the Rust crate's mistake.
      throw new IllegalArgumentException("kavach.microvm.jailer-uid/gid must not be 0");
    }
  }

  /** Reads the settings. */
  static MicrovmSettings from(GuestHost host) {
    List<Path> kernels = new ArrayList<>();
    host.setting("kavach.microvm.kernel").map(Path::of).ifPresent(kernels::add);
    if (kernels.isEmpty()) {
      kernels.addAll(DEFAULT_KERNELS);
    }
    return new MicrovmSettings(
        kernels,
        host.setting("kavach.microvm.firecracker").map(Path::of).orElse(null),
        host.setting("kavach.microvm.jailer").map(Path::of).orElse(null),
        !host.setting("kavach.microvm.use-jailer").map("false"::equals).orElse(false),
        intSetting(host, "kavach.microvm.jailer-uid", NOBODY),
        intSetting(host, "kavach.microvm.jailer-gid", NOBODY),
        host.setting("kavach.microvm.rootfs-dir").map(Path::of).orElse(null),
        intSetting(host, "kavach.microvm.workspace-size-mib", 256),
        Duration.ofSeconds(intSetting(host, "kavach.microvm.boot-timeout-seconds", 10)));
  }

  private static int intSetting(GuestHost host, String key, int fallback) {
    Optional<String> v = host.setting(key);
    if (v.isEmpty()) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.get().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " (" + v.get() + ") must be an integer", e);
    }
  }

  /** The first kernel candidate that exists. */
  Optional<Path> kernel(GuestHost host) {
    return kernelCandidates.stream().filter(host::exists).findFirst();
  }
}
