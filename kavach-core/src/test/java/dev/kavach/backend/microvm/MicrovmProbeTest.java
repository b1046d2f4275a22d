package dev.kavach.backend.microvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.kavach.KavachException;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.internal.guest.FakeGuestHost;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Virtualization;
import dev.kavach.policy.SandboxPolicy;
import org.junit.jupiter.api.Test;

class MicrovmProbeTest {

  private static FakeGuestHost everything() {
    return FakeGuestHost.intelKvm()
        .withTool("firecracker")
        .withTool("jailer")
        .withTool("mkfs.ext4")
        .withTool("debugfs")
        .withFile("/var/lib/kavach/vmlinux", "ELF")
        .withSetting("kavach.microvm.rootfs-dir", "/srv/guest-root");
  }

  @Test
  void availableWithEverythingNamesWhatItUses() {
    Availability a = MicrovmProbe.probe(everything(), true).availability();
    assertThat(a.available()).isTrue();
    assertThat(a.reason())
        .isEqualTo(
            "firecracker /usr/bin/firecracker, kernel /var/lib/kavach/vmlinux,"
                + " jailer /usr/bin/jailer as uid 65534");
  }

  @Test
  void pvmKvmIsNotHardwareVirtualization() {
    FakeGuestHost host = everything().withVirtualization(FakeGuestHost.pvm().virtualization());
    Availability a = MicrovmProbe.probe(host, true).availability();
    assertThat(a.available()).isFalse();
    assertThat(a.reason())
        .isEqualTo(
            "needs hardware virtualization: /dev/kvm is the paravirtual PVM device (kvm_pvm) and"
                + " the CPU has no vmx/svm: stock guest kernels do not boot");
  }

  @Test
  void everyMissingPieceIsNamedAtOnce() {
    FakeGuestHost bare = new FakeGuestHost();
    Availability a = MicrovmProbe.probe(bare, false).availability();
    assertThat(a.available()).isFalse();
    assertThat(a.reason().split("; "))
        .containsExactly(
            "needs hardware virtualization: no /dev/kvm",
            "firecracker not found on PATH (or set kavach.microvm.firecracker)",
            "no guest kernel (uncompressed vmlinux) at /var/lib/kavach/vmlinux,"
                + " /usr/local/share/kavach/vmlinux, /usr/share/kavach/vmlinux"
                + " (set kavach.microvm.kernel)",
            "mkfs.ext4 not found (e2fsprogs builds the root and workspace drives)",
            "debugfs not found (e2fsprogs builds the root and workspace drives)",
            "no guest tools: no statically linked busybox on PATH (install busybox-static) and no"
                + " kavach.microvm.rootfs-dir",
            "kavach-agent is missing from this build");
  }

  @Test
  void configuredKernelAndBinaryAreTheOnesChecked() {
    FakeGuestHost host =
        everything()
            .withSetting("kavach.microvm.kernel", "/opt/k/vmlinux-6.1")
            .withSetting("kavach.microvm.firecracker", "/opt/fc/firecracker");
    Availability a = MicrovmProbe.probe(host, true).availability();
    assertThat(a.reason())
        .contains("firecracker not executable at /opt/fc/firecracker")
        .contains("no guest kernel (uncompressed vmlinux) at /opt/k/vmlinux-6.1");
  }

  @Test
  void jailerAsRootIsRefused() {
    Availability a =
        MicrovmProbe.probe(everything().withSetting("kavach.microvm.jailer-uid", "0"), true)
            .availability();
    assertThat(a.available()).isFalse();
    assertThat(a.reason()).contains("jailer-uid/gid must not be 0");
  }

  @Test
  void withoutJailerTheReasonSaysSo() {
    FakeGuestHost host = everything().withSetting("kavach.microvm.use-jailer", "false");
    assertThat(MicrovmProbe.probe(host, true).availability().reason())
        .endsWith("no jailer: the VMM runs unjailed as this user");
  }

  @Test
  void aFractionalCpuLimitNeedsTheJailer() {
    MicrovmBackendProvider p =
        new MicrovmBackendProvider(everything().withSetting("kavach.microvm.use-jailer", "false"));
    SandboxConfig config =
        SandboxConfig.builder()
            .backend("microvm")
            .policy(SandboxPolicy.minimal().toBuilder().cpuLimit(0.5).build())
            .build();
    assertThatThrownBy(() -> p.open("kv-test", config))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cannot enforce cpu_limit 0.5 without the jailer");
  }

  @Test
  void onThisHostWithoutHardwareVirtualizationTheProbeSaysExactlyThat() {
    Virtualization v = HostProbe.system().virtualization();
    assumeFalse(v.hardwareKvm(), "this host has hardware KVM");
    Availability a = new MicrovmBackendProvider().probe();
    assertThat(a.available()).isFalse();
    assertThat(a.reason()).startsWith("needs hardware virtualization: " + v.explain());
  }
}
