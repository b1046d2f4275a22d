package dev.kavach.backend.tee;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.internal.guest.GuestMachine;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandTest {
  private static QemuCommand command(CvmKind kind, String workspace) {
    return new QemuCommand(
        kind,
        Path.of("/usr/bin/qemu-system-x86_64"),
        "kavach-kv-0123456789ab",
        new GuestMachine(2, 1024, 0),
        Path.of("/usr/share/ovmf/OVMF.fd"),
        Path.of("/var/lib/kavach/vmlinuz"),
        Path.of("/dev/shm/kavach-kv-0123456789ab/initrd.cpio"),
        QemuCommand.cmdline(5005),
        Path.of(workspace),
        1234567,
        51,
        1);
  }

  @Test
  void goldenSevSnp() {
    assertThat(command(CvmKind.SEV_SNP, "/dev/shm/kavach-kv-0123456789ab/workspace.ext4").argv())
        .containsExactly(
            "/usr/bin/qemu-system-x86_64",
            "-name",
            "kavach-kv-0123456789ab",
            "-accel",
            "kvm",
            "-machine",
            "q35,confidential-guest-support=cgs0,vmport=off",
            "-object",
            "sev-snp-guest,id=cgs0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on",
            "-cpu",
            "EPYC-v4",
            "-smp",
            "2",
            "-m",
            "1024M",
            "-bios",
            "/usr/share/ovmf/OVMF.fd",
            "-kernel",
            "/var/lib/kavach/vmlinuz",
            "-initrd",
            "/dev/shm/kavach-kv-0123456789ab/initrd.cpio",
            "-append",
            "console=ttyS0 panic=1 quiet loglevel=1 kavach.port=5005 kavach.workspace=/dev/vda",
            "-drive",
            "file=/dev/shm/kavach-kv-0123456789ab/workspace.ext4,if=none,id=workspace,format=raw,"
                + "cache=none",
            "-device",
            "virtio-blk-pci,drive=workspace",
            "-device",
            "vhost-vsock-pci,guest-cid=1234567",
            "-nic",
            "none",
            "-nodefaults",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-no-reboot");
  }

  @Test
  void goldenTdxDiffersOnlyInTheConfidentialParts() {
    List<String> tdx = command(CvmKind.TDX, "/w.ext4").argv();
    assertThat(tdx.subList(5, 11))
        .containsExactly(
            "-machine",
            "q35,kernel-irqchip=split,confidential-guest-support=cgs0",
            "-object",
            "tdx-guest,id=cgs0",
            "-cpu",
            "host");
    List<String> sev = command(CvmKind.SEV_SNP, "/w.ext4").argv();
    assertThat(tdx.subList(11, tdx.size())).isEqualTo(sev.subList(11, sev.size()));
  }

  @Test
  void aCommaInAPathCannotAddAnOption() {
    List<String> argv = command(CvmKind.SEV_SNP, "/tmp/x,if=floppy,file=/etc/shadow").argv();
    assertThat(argv)
        .contains(
            "file=/tmp/x,,if=floppy,,file=/etc/shadow,if=none,id=workspace,format=raw,cache=none");
  }

  @Test
  void theCommandLineHasAFixedVocabulary() {
    for (String word : QemuCommand.cmdline(5005).split(" ")) {
      assertThat(word)
          .matches(
              "console=ttyS0|panic=1|quiet|loglevel=1|kavach\\.port=5005"
                  + "|kavach\\.workspace=/dev/vda");
    }
  }

  @Test
  void cidsOutsideTheVsockRangeAreRefused() {
    assertThatThrownBy(
            () ->
                new QemuCommand(
                    CvmKind.TDX,
                    Path.of("q"),
                    "n",
                    new GuestMachine(1, 512, 0),
                    Path.of("f"),
                    Path.of("k"),
                    Path.of("i"),
                    "c",
                    Path.of("w"),
                    2,
                    51,
                    1))
        .hasMessageContaining("guest CID (2)");
  }

  @Test
  void attestationUsesConfigfsTsmWithTheNonceOnStdin() {
    assertThat(Attestation.command())
        .containsExactly(
            "/bin/sh",
            "-c",
            "set -e; r=/sys/kernel/config/tsm/report/kavach$$; mkdir \"$r\"; trap 'rmdir \"$r\"'"
                + " EXIT; cat > \"$r/inblob\"; cat \"$r/provider\" >&2; cat \"$r/outblob\"");
  }
}
