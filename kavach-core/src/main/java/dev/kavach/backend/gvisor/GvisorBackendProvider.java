package dev.kavach.backend.gvisor;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.backend.oci.OciBundle;
import dev.kavach.internal.container.ContainerBackend;
import dev.kavach.internal.container.ContainerPlan;
import dev.kavach.internal.container.OciRuntimeDriver;
import dev.kavach.internal.container.OciRuntimeDriver.Kind;
import dev.kavach.internal.container.RuntimeCommands;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.internal.host.Tool;
import dev.kavach.internal.host.Virtualization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The {@code gvisor} backend: each sandbox is one runsc (gVisor) sandbox. The command runs on
 * gVisor's user-space kernel, so a kernel bug reachable from the command is a bug in gVisor, not in
 * the host kernel.
 *
 * <p>The platform is chosen by probing: systrap when this runsc has it, kvm only with hardware
 * virtualization, ptrace otherwise (the Debian 12 build of 2022 has ptrace and kvm only, and {@code
 * /dev/kvm} on PVM hosts is not hardware KVM). The network is {@code none} when the policy isolates
 * it. gVisor's own threads count against the host pids cgroup, so the host limit is the policy's
 * plus {@link #SENTRY_PIDS}, and the report shows that figure.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder().backend("gvisor").build();
 * }</pre>
 */
public final class GvisorBackendProvider implements BackendProvider {
  /** The base score of the gvisor backend (the Rust crate's table). */
  public static final int BASE_SCORE = 70;

  /**
   * Host pids gVisor itself needs (sentry and gofer threads): with a limit of 20 the sandbox cannot
   * start ("failed to create new OS thread"); about 100 is the measured minimum here.
   */
  public static final int SENTRY_PIDS = 128;

  private final @Nullable Path rootfs;

  /** The provider for {@link java.util.ServiceLoader}: the host's system directories as root. */
  public GvisorBackendProvider() {
    this.rootfs = null;
  }

  /** A provider whose sandboxes use {@code rootfs} as their root filesystem. */
  public GvisorBackendProvider(Path rootfs) {
    this.rootfs = rootfs.toAbsolutePath().normalize();
  }

  @Override
  public String name() {
    return "gvisor";
  }

  @Override
  public List<String> aliases() {
    return List.of("runsc");
  }

  @Override
  public String description() {
    return "one gVisor (runsc) sandbox per sandbox: the command runs on a user-space kernel";
  }

  @Override
  public int baseScore() {
    return BASE_SCORE;
  }

  @Override
  public Availability probe() {
    List<String> why = new ArrayList<>();
    Optional<Runsc> r = find(HostProbe.system(), why);
    return r.map(x -> Availability.available(String.join("; ", x.notes())))
        .orElseGet(() -> Availability.unavailable(String.join("; ", why)));
  }

  @Override
  public Set<Capability> capabilities() {
    return ContainerBackend.capabilities();
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    List<String> why = new ArrayList<>();
    Runsc runsc =
        find(HostProbe.system(), why)
            .orElseThrow(
                () ->
                    new KavachException(
                        Reason.BACKEND_UNAVAILABLE,
                        "gvisor is not available: " + String.join("; ", why)));
    ContainerPlan plan = ContainerPlan.of(sandboxId, config, rootfs);
    List<String> notes = new ArrayList<>(runsc.notes());
    if (plan.pidsLimit() > 0) {
      notes.add(
          "pids limit "
              + plan.pidsLimit()
              + " + "
              + SENTRY_PIDS
              + " for gVisor's own threads, which share the host pids cgroup; reaching it ends"
              + " the whole sandbox rather than failing one fork");
      plan = plan.withPidsLimit(plan.pidsLimit() + SENTRY_PIDS);
    }
    if (plan.memoryLimitBytes() > 0) {
      notes.add(
          "the memory limit applies to the whole gVisor sandbox: reaching it kills the sandbox,"
              + " not only the command");
    }
    notes.add(
        "commands run on gVisor's user-space kernel, which has its own pid, mount, ipc, uts and"
            + " network stacks; the namespaces listed are those of the sandbox on the host");
    for (String m : Backends.missingCapabilities(this, config.policy())) {
      notes.add("not enforced (best effort): " + m);
    }
    List<String> command = new ArrayList<>(runsc.command());
    command.add("--network=" + (plan.networkIsolated() ? "none" : "host"));
    if (plan.seccomp() != null) {
      // runsc ignores linux.seccomp unless told to install it inside the sandbox, and then
      // applies it to the container's first process only: each exec's agent installs the same
      // profile, compiled to BPF, in the command's process (see OciRuntimeDriver).
      command.add("--oci-seccomp");
      notes.add(
          "seccomp profile "
              + plan.seccomp().profile()
              + " installed in each command by kavach-agent-oci (runsc applies linux.seccomp"
              + " to the container's first process only)");
    }
    OciRuntimeDriver driver =
        new OciRuntimeDriver(Kind.RUNSC, command, plan, new OciBundle(), notes);
    return new ContainerBackend(name(), plan, driver, config.policy().bestEffort());
  }

  /** runsc with the command that runs it (global flags but the network). */
  private record Runsc(Tool tool, List<String> command, List<String> notes) {}

  private static Optional<Runsc> find(HostProbe host, List<String> why) {
    Optional<Tool> tool = host.tool("runsc");
    if (tool.isEmpty()) {
      why.add("runsc not found on PATH");
      return Optional.empty();
    }
    if (host.uid() != 0) {
      // Measured on this machine kind: "runsc --rootless run" fails with "cannot create gofer
      // process: operation not permitted".
      why.add("runsc found, but kavach runs gVisor as root only (rootless runsc run fails here)");
      return Optional.empty();
    }
    Exec.Result r = RuntimeCommands.run(List.of(tool.get().path().toString(), "help", "platforms"));
    List<String> platforms = List.of(r.stdoutText().trim().split("\\s+"));
    String platform = choosePlatform(platforms, host.virtualization());
    if (platform == null) {
      why.add("runsc offers no usable platform (it lists " + platforms + ")");
      return Optional.empty();
    }
    List<String> command =
        List.of(
            tool.get().path().toString(),
            "--root",
            OciRuntimeDriver.stateRoot(Kind.RUNSC).toString(),
            "--platform=" + platform);
    List<String> notes =
        List.of(
            "runtime " + tool.get().version() + " (" + tool.get().path() + ")",
            "platform " + platform + " (runsc offers " + String.join(", ", platforms) + ")");
    return Optional.of(new Runsc(tool.get(), command, notes));
  }

  /**
   * The platform to use: systrap when offered (the fastest without virtualization), kvm only with
   * hardware KVM, ptrace as the fallback that always works.
   */
  static @Nullable String choosePlatform(List<String> offered, Virtualization virt) {
    if (offered.contains("systrap")) {
      return "systrap";
    }
    if (offered.contains("kvm") && virt.hardwareKvm()) {
      return "kvm";
    }
    if (offered.contains("ptrace")) {
      return "ptrace";
    }
    return null;
  }
}
