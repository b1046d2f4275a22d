package dev.kavach.backend.tee;

import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.RootTree;
import dev.kavach.internal.host.Virtualization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a confidential guest needs, checked for real: hardware KVM of the right vendor, the
 * technology enabled in KVM's module parameters (not merely a device node), the firmware device for
 * SEV, a QEMU that knows the guest object, firmware and kernel images, {@code /dev/vhost-vsock} for
 * the agent, and the guest's tools. The reason names every missing piece.
 */
final class CvmProbe {
  static final Path VHOST_VSOCK = Path.of("/dev/vhost-vsock");

  private CvmProbe() {}

  /** What was found. */
  record Found(
      Availability availability,
      Optional<Path> qemu,
      Optional<Path> firmware,
      Optional<Path> kernel,
      Optional<Path> busybox) {}

  static Found probe(CvmKind kind, GuestHost host, boolean agentBuilt) {
    List<String> missing = new ArrayList<>();
    Virtualization v = host.virtualization();
    if (!v.hardwareKvm()) {
      missing.add("needs hardware virtualization with " + kind.title + ": " + v.explain());
    } else if (!v.cpuFlags().contains(kind.cpuFlag) || !v.kvmModules().contains(kind.kvmModule)) {
      missing.add(
          kind.title
              + " needs "
              + kind.kvmModule
              + " ("
              + kind.cpuFlag
              + "); found "
              + v.explain());
    }
    String enabled = host.read(kind.kvmParameter).strip();
    if (!enabled.equals("Y") && !enabled.equals("1")) {
      missing.add(
          kind.title
              + " is not enabled in KVM ("
              + kind.kvmParameter
              + (enabled.isEmpty() ? " absent)" : " is " + enabled + ")"));
    }
    if (kind == CvmKind.SEV_SNP && !host.exists(Path.of("/dev/sev"))) {
      missing.add("/dev/sev absent (the AMD secure processor driver, ccp, is not loaded)");
    }
    Optional<Path> qemu = host.tool(host.setting(kind.key("qemu")).orElse("qemu-system-x86_64"));
    if (qemu.isEmpty()) {
      missing.add("qemu-system-x86_64 not found (or set " + kind.key("qemu") + ")");
    } else if (!host.run(List.of(qemu.get().toString(), "-object", "help"))
        .contains(kind.qemuObject)) {
      String version =
          host.run(List.of(qemu.get().toString(), "--version")).lines().findFirst().orElse("?");
      missing.add(
          version.strip()
              + " has no "
              + kind.qemuObject
              + " object (needs "
              + kind.minimumQemu
              + " or later)");
    }
    Optional<Path> firmware = firstExisting(host, kind.key("firmware"), kind.defaultFirmware);
    if (firmware.isEmpty()) {
      missing.add(
          "no "
              + kind.title
              + " firmware at "
              + joined(candidates(host, kind.key("firmware"), kind.defaultFirmware))
              + " (set "
              + kind.key("firmware")
              + ")");
    }
    Optional<Path> kernel = firstExisting(host, kind.key("kernel"), kind.defaultKernels());
    if (kernel.isEmpty()) {
      missing.add(
          "no guest kernel at "
              + joined(candidates(host, kind.key("kernel"), kind.defaultKernels()))
              + " (set "
              + kind.key("kernel")
              + ")");
    }
    if (!host.exists(VHOST_VSOCK)) {
      missing.add("no " + VHOST_VSOCK + " (modprobe vhost_vsock): the agent is reached over vsock");
    }
    Optional<Path> busybox = RootTree.staticBusybox(host);
    if (busybox.isEmpty()) {
      missing.add("no statically linked busybox for the guest (install busybox-static)");
    }
    if (!agentBuilt) {
      missing.add("kavach-agent is missing from this build");
    }
    if (!missing.isEmpty()) {
      return new Found(
          Availability.unavailable(String.join("; ", missing)), qemu, firmware, kernel, busybox);
    }
    String extra =
        kind == CvmKind.SEV_SNP && host.tool("sevctl").isPresent() ? ", sevctl present" : "";
    return new Found(
        Availability.available(
            kind.title
                + " enabled, "
                + qemu.orElseThrow()
                + ", firmware "
                + firmware.orElseThrow()
                + ", kernel "
                + kernel.orElseThrow()
                + extra),
        qemu,
        firmware,
        kernel,
        busybox);
  }

  private static List<Path> candidates(GuestHost host, String key, List<Path> defaults) {
    return host.setting(key).map(s -> List.of(Path.of(s))).orElse(defaults);
  }

  private static Optional<Path> firstExisting(GuestHost host, String key, List<Path> defaults) {
    return candidates(host, key, defaults).stream().filter(host::exists).findFirst();
  }

  private static String joined(List<Path> paths) {
    return String.join(", ", paths.stream().map(Path::toString).toList());
  }
}
