package dev.kavach.backend.tee;

import java.nio.file.Path;
import java.util.List;

/** The two confidential-VM technologies and what differs between them. */
enum CvmKind {
  /** AMD SEV-SNP: encrypted, integrity-protected guest memory; QEMU 9.1+ {@code sev-snp-guest}. */
  SEV_SNP(
      "sev",
      82,
      "svm",
      "kvm_amd",
      Path.of("/sys/module/kvm_amd/parameters/sev_snp"),
      "sev-snp-guest",
      "QEMU 9.1",
      List.of(
          Path.of("/usr/share/ovmf/OVMF.amdsev.fd"),
          Path.of("/usr/share/OVMF/OVMF.amdsev.fd"),
          Path.of("/usr/share/edk2/ovmf/OVMF.amdsev.fd")),
      "AMD SEV-SNP"),
  /** Intel TDX: a trust domain isolated from the host VMM; QEMU 10.1+ {@code tdx-guest}. */
  TDX(
      "tdx",
      85,
      "vmx",
      "kvm_intel",
      Path.of("/sys/module/kvm_intel/parameters/tdx"),
      "tdx-guest",
      "QEMU 10.1",
      List.of(
          Path.of("/usr/share/ovmf/OVMF.tdx.fd"),
          Path.of("/usr/share/OVMF/OVMF.tdx.fd"),
          Path.of("/usr/share/edk2/ovmf/OVMF.inteltdx.fd")),
      "Intel TDX");

  final String backend;
  final int baseScore;
  final String cpuFlag;
  final String kvmModule;
  final Path kvmParameter;
  final String qemuObject;
  final String minimumQemu;

  // Always a List.of(...) value, which is immutable; Error Prone cannot see that from the type.
  @SuppressWarnings("ImmutableEnumChecker")
  final List<Path> defaultFirmware;

  final String title;

  CvmKind(
      String backend,
      int baseScore,
      String cpuFlag,
      String kvmModule,
      Path kvmParameter,
      String qemuObject,
      String minimumQemu,
      List<Path> defaultFirmware,
      String title) {
    this.backend = backend;
    this.baseScore = baseScore;
    this.cpuFlag = cpuFlag;
    this.kvmModule = kvmModule;
    this.kvmParameter = kvmParameter;
    this.qemuObject = qemuObject;
    this.minimumQemu = minimumQemu;
    this.defaultFirmware = defaultFirmware;
    this.title = title;
  }

  /** Where the guest kernel (a bzImage with the guest support built in) is looked for. */
  List<Path> defaultKernels() {
    return List.of(
        Path.of("/var/lib/kavach/" + backend + "/vmlinuz"), Path.of("/var/lib/kavach/vmlinuz"));
  }

  /** The settings prefix, {@code kavach.sev.} or {@code kavach.tdx.}. */
  String key(String name) {
    return "kavach." + backend + "." + name;
  }
}
