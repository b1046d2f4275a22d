package dev.kavach.backend.tee;

import dev.kavach.internal.guest.GuestMachine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU command line of one confidential guest. The guest boots a kernel and an initrd whose
 * {@code /init} is kavach-agent; its only devices are the serial console, the workspace drive and a
 * vhost-vsock device for the agent. There is no network device ({@code -nic none}), no display, no
 * monitor and no default device.
 *
 * <p>Paths go into QEMU's {@code key=value,...} options, where a comma separates options: each
 * comma in a value is doubled, so a path cannot add an option. The command's argv and environment
 * never appear here: they reach the agent over vsock.
 *
 * @param kind SEV-SNP or TDX
 * @param qemu the qemu-system-x86_64 binary
 * @param name the VM name ({@code kavach-<sandbox-id>}, also for leak checks)
 * @param machine vCPUs and memory
 * @param firmware OVMF built for the technology (AmdSev with kernel hashes, or TDVF)
 * @param kernel guest kernel
 * @param initrd the initrd with the agent
 * @param cmdline kernel command line
 * @param workspaceImage the workspace drive image
 * @param guestCid the vsock CID, unique on the host
 * @param cbitpos SEV-SNP's C-bit position (CPUID 0x8000001F EBX[5:0]; 51 on EPYC Milan/Genoa)
 * @param reducedPhysBits SEV-SNP's physical address bit reduction
 */
record QemuCommand(
    CvmKind kind,
    Path qemu,
    String name,
    GuestMachine machine,
    Path firmware,
    Path kernel,
    Path initrd,
    String cmdline,
    Path workspaceImage,
    long guestCid,
    int cbitpos,
    int reducedPhysBits) {

  QemuCommand {
    if (guestCid < 3 || guestCid > 0xFFFF_FFFEL) {
      throw new IllegalArgumentException("guest CID (" + guestCid + ") must be 3..2^32-2");
    }
  }

  /** The kernel command line: a fixed vocabulary, nothing from the sandbox configuration. */
  static String cmdline(int agentPort) {
    return "console=ttyS0 panic=1 quiet loglevel=1 kavach.port="
        + agentPort
        + " kavach.workspace=/dev/vda";
  }

  /** A value inside a QEMU option list: commas doubled. */
  static String opt(Object value) {
    return value.toString().replace(",", ",,");
  }

  List<String> argv() {
    List<String> a = new ArrayList<>();
    a.add(qemu.toString());
    a.addAll(List.of("-name", name));
    a.addAll(List.of("-accel", "kvm"));
    if (kind == CvmKind.SEV_SNP) {
      a.addAll(List.of("-machine", "q35,confidential-guest-support=cgs0,vmport=off"));
      a.addAll(
          List.of(
              "-object",
              "sev-snp-guest,id=cgs0,cbitpos="
                  + cbitpos
                  + ",reduced-phys-bits="
                  + reducedPhysBits
                  + ",kernel-hashes=on"));
      a.addAll(List.of("-cpu", "EPYC-v4"));
    } else {
      a.addAll(List.of("-machine", "q35,kernel-irqchip=split,confidential-guest-support=cgs0"));
      a.addAll(List.of("-object", "tdx-guest,id=cgs0"));
      a.addAll(List.of("-cpu", "host"));
    }
    a.addAll(List.of("-smp", Integer.toString(machine.vcpus())));
    a.addAll(List.of("-m", machine.memMib() + "M"));
    a.addAll(List.of("-bios", firmware.toString()));
    a.addAll(List.of("-kernel", kernel.toString()));
    a.addAll(List.of("-initrd", initrd.toString()));
    a.addAll(List.of("-append", cmdline));
    a.addAll(
        List.of(
            "-drive",
            "file=" + opt(workspaceImage) + ",if=none,id=workspace,format=raw,cache=none",
            "-device",
            "virtio-blk-pci,drive=workspace"));
    a.addAll(List.of("-device", "vhost-vsock-pci,guest-cid=" + guestCid));
    a.addAll(List.of("-nic", "none"));
    // -nodefaults drops the default serial port; an explicit one keeps the console (the
    // machine-probe found a silent guest with -nodefaults alone).
    a.addAll(
        List.of(
            "-nodefaults",
            "-display",
            "none",
            "-monitor",
            "none",
            "-serial",
            "stdio",
            "-no-reboot"));
    return a;
  }
}
