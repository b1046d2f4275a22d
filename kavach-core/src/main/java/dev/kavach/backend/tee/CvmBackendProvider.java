package dev.kavach.backend.tee;

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
import java.util.Set;

/** What {@link SevBackendProvider} and {@link TdxBackendProvider} share. */
abstract class CvmBackendProvider implements BackendProvider {
  private final CvmKind kind;
  private final GuestHost host;

  CvmBackendProvider(CvmKind kind, GuestHost host) {
    this.kind = kind;
    this.host = host;
  }

  @Override
  public String name() {
    return kind.backend;
  }

  @Override
  public int baseScore() {
    return kind.baseScore;
  }

  @Override
  public Availability probe() {
    return CvmProbe.probe(kind, host, agentBuilt()).availability();
  }

  private static boolean agentBuilt() {
    return AgentBinary.present();
  }

  @Override
  public Set<Capability> capabilities() {
    // The root is an initramfs in guest memory: writable, so no read-only root is claimed.
    return EnumSet.of(
        Capability.RUNS_COMMANDS,
        Capability.NETWORK_ISOLATION,
        Capability.SECCOMP,
        Capability.MEMORY_LIMIT,
        Capability.CPU_LIMIT,
        Capability.SECRET_ENV,
        Capability.SECRET_STDIN);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    CvmProbe.Found found = CvmProbe.probe(kind, host, agentBuilt());
    if (!found.availability().available()) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, kind.backend + ": " + found.availability().reason());
    }
    GuestMachine machine = GuestMachine.from(config.policy(), 512, 256, 64, "QEMU " + kind.title);
    if (machine.cpuQuota() > 0 && !config.policy().bestEffort()) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          kind.backend
              + " cannot enforce the fractional cpu_limit "
              + machine.cpuQuota()
              + " (whole vCPUs only); use a whole number or set best_effort");
    }
    return new CvmBackend(kind, sandboxId, config, found, machine, host);
  }
}
