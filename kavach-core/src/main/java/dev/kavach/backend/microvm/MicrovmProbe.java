package dev.kavach.backend.microvm;

import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.RootTree;
import dev.kavach.internal.host.Virtualization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the microvm backend needs, checked for real: KVM backed by VT-x/SVM (a PVM {@code /dev/kvm}
 * does not boot stock kernels), the firecracker binary, a guest kernel, e2fsprogs for the drives
 * and the agent in this build. The reason names every missing piece at once.
 */
final class MicrovmProbe {
  private MicrovmProbe() {}

  /** The facts found, or what is missing. */
  record Found(
      Availability availability,
      Optional<Path> firecracker,
      Optional<Path> jailer,
      Optional<Path> kernel) {}

  static Found probe(GuestHost host, boolean agentBuilt) {
    List<String> missing = new ArrayList<>();
    Virtualization v = host.virtualization();
    if (!v.hardwareKvm()) {
      missing.add("needs hardware virtualization: " + v.explain());
    }
    MicrovmSettings s;
    try {
      s = MicrovmSettings.from(host);
    } catch (IllegalArgumentException e) {
      return new Found(
          Availability.unavailable("bad setting: " + e.getMessage()),
          Optional.empty(),
          Optional.empty(),
          Optional.empty());
    }
    Optional<Path> fc =
        host.tool(s.firecracker() == null ? "firecracker" : s.firecracker().toString());
    if (fc.isEmpty()) {
      missing.add(
          s.firecracker() == null
              ? "firecracker not found on PATH (or set kavach.microvm.firecracker)"
              : "firecracker not executable at " + s.firecracker());
    }
    Optional<Path> kernel = s.kernel(host);
    if (kernel.isEmpty()) {
      missing.add(
          "no guest kernel (uncompressed vmlinux) at "
              + String.join(", ", s.kernelCandidates().stream().map(Path::toString).toList())
              + " (set kavach.microvm.kernel)");
    }
    for (String tool : List.of("mkfs.ext4", "debugfs")) {
      if (host.tool(tool).isEmpty()) {
        missing.add(tool + " not found (e2fsprogs builds the root and workspace drives)");
      }
    }
    if (s.rootfsDir() == null && RootTree.staticBusybox(host).isEmpty()) {
      missing.add(
          "no guest tools: no statically linked busybox on PATH (install busybox-static)"
              + " and no kavach.microvm.rootfs-dir");
    }
    if (!agentBuilt) {
      missing.add("kavach-agent is missing from this build");
    }
    Optional<Path> jailer =
        s.useJailer()
            ? host.tool(s.jailer() == null ? "jailer" : s.jailer().toString())
            : Optional.empty();
    if (!missing.isEmpty()) {
      return new Found(Availability.unavailable(String.join("; ", missing)), fc, jailer, kernel);
    }
    String how =
        jailer
            .map(j -> "jailer " + j + " as uid " + s.jailerUid())
            .orElse("no jailer: the VMM runs unjailed as this user");
    return new Found(
        Availability.available(
            "firecracker " + fc.orElseThrow() + ", kernel " + kernel.orElseThrow() + ", " + how),
        fc,
        jailer,
        kernel);
  }
}
