package dev.kavach.backend.tee;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.FakeGuestHost;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Virtualization;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CvmProbeTest {
  private static final String QEMU = "/usr/bin/qemu-system-x86_64";

  private static FakeGuestHost sevHost() {
    return FakeGuestHost.amdKvm()
        .withFile("/sys/module/kvm_amd/parameters/sev_snp", "Y\n")
        .withFile("/dev/sev", "")
        .withFile("/dev/vhost-vsock", "")
        .withFile("/usr/share/ovmf/OVMF.amdsev.fd", "")
        .withFile("/var/lib/kavach/vmlinuz", "")
        .withTool("qemu-system-x86_64")
        .withTool("busybox", Path.of("/usr/bin/busybox"))
        .withCommand(QEMU + " -object help", "List of user creatable objects:\n  sev-snp-guest\n")
        .withCommand(QEMU + " --version", "QEMU emulator version 9.2.0\n");
  }

  private static FakeGuestHost tdxHost() {
    return FakeGuestHost.intelKvm()
        .withFile("/sys/module/kvm_intel/parameters/tdx", "Y\n")
        .withFile("/dev/vhost-vsock", "")
        .withFile("/usr/share/ovmf/OVMF.tdx.fd", "")
        .withFile("/var/lib/kavach/tdx/vmlinuz", "")
        .withTool("qemu-system-x86_64")
        .withTool("busybox", Path.of("/usr/bin/busybox"))
        .withCommand(QEMU + " -object help", "  tdx-guest\n")
        .withCommand(QEMU + " --version", "QEMU emulator version 10.1.0\n");
  }

  @Test
  void sevAvailableWithEverything() {
    Availability a = CvmProbe.probe(CvmKind.SEV_SNP, sevHost(), true).availability();
    assertThat(a.available()).as(a.reason()).isTrue();
    assertThat(a.reason())
        .isEqualTo(
            "AMD SEV-SNP enabled, /usr/bin/qemu-system-x86_64, firmware"
                + " /usr/share/ovmf/OVMF.amdsev.fd, kernel /var/lib/kavach/vmlinuz");
  }

  @Test
  void tdxAvailableWithEverything() {
    Availability a = CvmProbe.probe(CvmKind.TDX, tdxHost(), true).availability();
    assertThat(a.available()).as(a.reason()).isTrue();
  }

  @Test
  void aDeviceNodeWithoutSnpEnabledIsNotSupport() {
    FakeGuestHost h = sevHost().withFile("/sys/module/kvm_amd/parameters/sev_snp", "N\n");
    assertThat(CvmProbe.probe(CvmKind.SEV_SNP, h, true).availability().reason())
        .isEqualTo(
            "AMD SEV-SNP is not enabled in KVM (/sys/module/kvm_amd/parameters/sev_snp is N)");
  }

  @Test
  void anOldQemuIsNamedWithItsVersion() {
    FakeGuestHost h =
        sevHost()
            .withCommand(QEMU + " -object help", "  sev-guest\n")
            .withCommand(QEMU + " --version", "QEMU emulator version 7.2.22\n");
    assertThat(CvmProbe.probe(CvmKind.SEV_SNP, h, true).availability().reason())
        .isEqualTo(
            "QEMU emulator version 7.2.22 has no sev-snp-guest object (needs QEMU 9.1 or later)");
  }

  @Test
  void theWrongVendorIsNamed() {
    FakeGuestHost h = sevHost().withVirtualization(FakeGuestHost.intelKvm().virtualization());
    assertThat(CvmProbe.probe(CvmKind.SEV_SNP, h, true).availability().reason())
        .startsWith("AMD SEV-SNP needs kvm_amd (svm); found /dev/kvm backed by kvm_intel (vmx)");
  }

  @Test
  void thisMachineKindNamesEveryMissingPiece() {
    FakeGuestHost pvm =
        FakeGuestHost.pvm()
            .withTool("qemu-system-x86_64")
            .withCommand(QEMU + " -object help", "  sev-guest\n")
            .withCommand(QEMU + " --version", "QEMU emulator version 7.2.22\n");
    assertThat(CvmProbe.probe(CvmKind.TDX, pvm, true).availability().reason().split("; "))
        .containsExactly(
            "needs hardware virtualization with Intel TDX: /dev/kvm is the paravirtual PVM device"
                + " (kvm_pvm) and the CPU has no vmx/svm: stock guest kernels do not boot",
            "Intel TDX is not enabled in KVM (/sys/module/kvm_intel/parameters/tdx absent)",
            "QEMU emulator version 7.2.22 has no tdx-guest object (needs QEMU 10.1 or later)",
            "no Intel TDX firmware at /usr/share/ovmf/OVMF.tdx.fd, /usr/share/OVMF/OVMF.tdx.fd,"
                + " /usr/share/edk2/ovmf/OVMF.inteltdx.fd (set kavach.tdx.firmware)",
            "no guest kernel at /var/lib/kavach/tdx/vmlinuz, /var/lib/kavach/vmlinuz (set"
                + " kavach.tdx.kernel)",
            "no /dev/vhost-vsock (modprobe vhost_vsock): the agent is reached over vsock",
            "no statically linked busybox for the guest (install busybox-static)");
  }

  @Test
  void onThisHostWithoutHardwareVirtualizationBothSayExactlyThat() {
    Virtualization v = HostProbe.system().virtualization();
    assumeFalse(v.hardwareKvm(), "this host has hardware KVM");
    Availability sev = new SevBackendProvider().probe();
    Availability tdx = new TdxBackendProvider().probe();
    assertThat(sev.available()).isFalse();
    assertThat(tdx.available()).isFalse();
    assertThat(sev.reason())
        .startsWith("needs hardware virtualization with AMD SEV-SNP: " + v.explain());
    assertThat(tdx.reason())
        .startsWith("needs hardware virtualization with Intel TDX: " + v.explain());
  }
}
