package dev.kavach.backend.microvm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.GuestMachine;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code microvm} backend (also {@code firecracker}): each sandbox is a Firecracker microVM.
 * kavach-agent is the guest's PID 1 on a read-only ext4 root drive; commands reach it over vsock
 * with the environment and secrets in the request; the workspace is a second drive copied back to
 * the host after every exec; the guest has no network device; memory and vCPUs come from the
 * policy. With the jailer on {@code PATH}, the VMM runs chrooted as an unprivileged uid in the
 * cgroup {@code kavach/<sandbox-id>}.
 *
 * <p>It needs KVM backed by VT-x or AMD-V, a {@code firecracker} binary and an uncompressed guest
 * kernel ({@code kavach.microvm.kernel}); {@link #probe()} names whatever is missing.
 *
 * <pre>{@code
 * System.setProperty("kavach.microvm.kernel", "/var/lib/kavach/vmlinux");
 * Sandbox s = Sandbox.create(SandboxConfig.builder().backend("microvm").build());
 * }</pre>
 */
public final class MicrovmBackendProvider implements BackendProvider {
  private final GuestHost host;

  /** A provider probing this host (for {@link java.util.ServiceLoader}). */
  public MicrovmBackendProvider() {
    this(GuestHost.system());
  }

  MicrovmBackendProvider(GuestHost host) {
    this.host = host;
  }

  @Override
  public String name() {
    return "microvm";
  }

  @Override
  public List<String> aliases() {
    return List.of("firecracker");
  }

  @Override
  public String description() {
    return "Firecracker microVM per sandbox: own kernel, read-only root, no network device,"
        + " guest agent over vsock";
  }

  @Override
  public int baseScore() {
    return 90;
  }

  @Override
  public Availability probe() {
    return MicrovmProbe.probe(host, agentBuilt()).availability();
  }

  private static boolean agentBuilt() {
    return AgentBinary.present();
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.RUNS_COMMANDS,
        Capability.NETWORK_ISOLATION,
        Capability.READ_ONLY_ROOT,
        Capability.SECCOMP,
        Capability.MEMORY_LIMIT,
        Capability.CPU_LIMIT,
        Capability.PAUSE,
        Capability.SECRET_ENV,
        Capability.SECRET_STDIN);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    MicrovmProbe.Found found = MicrovmProbe.probe(host, agentBuilt());
    if (!found.availability().available()) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, "microvm: " + found.availability().reason());
    }
    GuestMachine machine = GuestMachine.from(config.policy(), 256, 64, 32, "Firecracker");
    if (machine.cpuQuota() > 0 && found.jailer().isEmpty() && !config.policy().bestEffort()) {
      // ceil(cpu) whole vCPUs would give more than asked; only the jailer's cgroup can cap it.
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "microvm cannot enforce cpu_limit "
              + config.policy().cpuLimit()
              + " without the jailer (a CPU quota on the VMM); use a whole number or install"
              + " jailer, or set best_effort");
    }
    return new MicrovmBackend(sandboxId, config, MicrovmSettings.from(host), found, machine, host);
  }
}
