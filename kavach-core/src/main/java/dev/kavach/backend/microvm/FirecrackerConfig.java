package dev.kavach.backend.microvm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.internal.guest.AgentProtocol;
import dev.kavach.internal.guest.GuestMachine;

/**
 * Firecracker's {@code --config-file} JSON for one sandbox. Paths are as the VMM sees them: inside
 * the jail's chroot when jailed. What the command may do is decided here: the root drive is
 * read-only, the workspace drive is the only writable disk, there is no network interface at all,
 * and the only channel to the host is the vsock device where the agent listens.
 *
 * <p>Nothing secret is written: the environment and secrets reach the guest in the agent's request
 * over vsock, never on the kernel command line (readable in the guest's {@code /proc/cmdline} and
 * the host's config file) and never in a file on the host disk.
 *
 * @param kernel guest kernel image
 * @param rootfs root drive image (read-only)
 * @param workspace workspace drive image (read-write, {@code /dev/vdb} in the guest)
 * @param vsockUds the Unix socket backing the vsock device
 * @param machine vCPUs and memory
 * @param agentPort the vsock port the agent listens on
 */
record FirecrackerConfig(
    String kernel,
    String rootfs,
    String workspace,
    String vsockUds,
    GuestMachine machine,
    int agentPort) {

  /** The guest CID: each Firecracker VM has its own vsock device, so every VM may use 3. */
  static final int GUEST_CID = 3;

  /** Where the agent is on the root drive; the kernel runs it as PID 1. */
  static final String AGENT_PATH = "/sbin/kavach-agent";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The kernel command line. Firecracker itself appends {@code root=/dev/vda ro} for the read-only
   * root drive. {@code pci=off}: Firecracker's devices are virtio-mmio; {@code panic=1} and {@code
   * reboot=k}: a crashed guest ends the VMM instead of hanging.
   */
  String bootArgs() {
    return "console=ttyS0 reboot=k panic=1 pci=off quiet loglevel=1 init="
        + AGENT_PATH
        + " kavach.port="
        + agentPort
        + " kavach.workspace=/dev/vdb";
  }

  /** The config file's content. */
  String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("boot-source").put("kernel_image_path", kernel).put("boot_args", bootArgs());
    var drives = root.putArray("drives");
    drives
        .addObject()
        .put("drive_id", "rootfs")
        .put("path_on_host", rootfs)
        .put("is_root_device", true)
        .put("is_read_only", true);
    drives
        .addObject()
        .put("drive_id", "workspace")
        .put("path_on_host", workspace)
        .put("is_root_device", false)
        .put("is_read_only", false);
    root.putObject("machine-config")
        .put("vcpu_count", machine.vcpus())
        .put("mem_size_mib", machine.memMib())
        .put("smt", false);
    // Present and empty: the guest gets no network device, not merely an unconfigured one.
    root.putArray("network-interfaces");
    root.putObject("vsock").put("guest_cid", GUEST_CID).put("uds_path", vsockUds);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and numbers always serialises", e);
    }
  }

  /** The default agent port. */
  static int defaultPort() {
    return AgentProtocol.DEFAULT_PORT;
  }
}
