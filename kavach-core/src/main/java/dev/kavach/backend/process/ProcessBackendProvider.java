package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The process backend: each command runs under {@code kavach-launch} in new user, PID, mount, IPC,
 * UTS, cgroup and (unless the network is enabled) network namespaces, on a read-only view of the
 * host's system directories, as an unprivileged uid without capabilities, with no_new_privs,
 * Landlock and a seccomp filter. What it advertises is what this host let the launcher do when
 * probed; a policy asking for more fails at {@code Sandbox.create} unless it is best-effort.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder().backend("process").policy(SandboxPolicy.basic()).build();
 * try (Sandbox sandbox = Sandbox.create(config)) {
 *   sandbox.start();
 *   System.out.println(sandbox.exec(List.of("id")).stdoutText());
 * }
 * }</pre>
 */
public final class ProcessBackendProvider implements BackendProvider {
  private final Supplier<Launcher> launcherSource;
  private final @Nullable Path rootfs;
  private final Object lock = new Object();
  private @Nullable Probed probed; // guarded by lock

  /** The launcher and what it and a trial cgroup found, probed once per provider. */
  private record Probed(@Nullable Launcher launcher, HostSupport support, CgroupSupport cgroups) {}

  /**
   * Creates the provider (for {@link java.util.ServiceLoader}): commands see the host's system
   * directories ({@code /usr}, {@code /etc}, ...) read-only. Probes lazily.
   */
  public ProcessBackendProvider() {
    this(Launcher::locate, null);
  }

  /**
   * A provider whose sandboxes see the entries of {@code rootfs} (a directory holding a root
   * filesystem, for example an unpacked image) read-only instead of the host's system directories;
   * {@code /proc}, {@code /dev}, {@code /tmp} and {@code /workspace} are still the sandbox's own.
   *
   * <pre>{@code
   * Backends backends = Backends.of(List.of(new ProcessBackendProvider(Path.of("/srv/alpine"))));
   * Sandbox s = Sandbox.create(config, backends);
   * }</pre>
   */
  public ProcessBackendProvider(Path rootfs) {
    this(Launcher::locate, rootfs);
  }

  /** A provider using this launcher (tests). */
  ProcessBackendProvider(Supplier<Launcher> launcherSource, @Nullable Path rootfs) {
    this.launcherSource = launcherSource;
    this.rootfs = rootfs == null ? null : rootfs.toAbsolutePath().normalize();
  }

  @Override
  public String name() {
    return "process";
  }

  @Override
  public String description() {
    return "Linux namespaces, read-only view, Landlock, seccomp and cgroups via kavach-launch";
  }

  @Override
  public int baseScore() {
    return 50;
  }

  private Probed probed() {
    synchronized (lock) {
      if (probed == null) {
        Launcher launcher = null;
        HostSupport support;
        try {
          launcher = launcherSource.get();
          support = launcher.probe();
        } catch (KavachException e) {
          support = HostSupport.failed(String.valueOf(e.getMessage()));
        }
        CgroupSupport cgroups =
            support.usable()
                ? CgroupSupport.probe(HostProbe.system())
                : CgroupSupport.none(support.describe());
        probed = new Probed(launcher, support, cgroups);
      }
      return probed;
    }
  }

  /** What this host supports, as the launcher's probe found it ({@code kavach doctor}). */
  public HostSupport hostSupport() {
    return probed().support();
  }

  @Override
  public Availability probe() {
    Probed p = probed();
    if (!p.support().usable()) {
      return Availability.unavailable(p.support().describe());
    }
    CgroupSupport cg = p.cgroups();
    String cgroups =
        cg.limits()
            ? "cgroup limits ok"
            : "no cgroup limits ("
                + cg.reason()
                + ")"
                + (cg.pause() ? "; pause ok" : "")
                + (cg.usage() ? "; usage ok" : "");
    return Availability.available(p.support().describe() + "; " + cgroups);
  }

  @Override
  public Set<Capability> capabilities() {
    HostSupport s = probed().support();
    Set<Capability> caps = EnumSet.of(Capability.RUNS_COMMANDS);
    if (!s.usable()) {
      return caps;
    }
    caps.addAll(
        EnumSet.of(
            Capability.NETWORK_ISOLATION,
            Capability.FILESYSTEM_RULES,
            Capability.READ_ONLY_ROOT,
            Capability.FILE_SIZE_LIMIT,
            Capability.SECRET_ENV,
            Capability.SECRET_FILE,
            Capability.SECRET_STDIN,
            // Through the sandbox's egress proxy and the launcher's relay (Plan.egress).
            Capability.NETWORK_HOST_RULES));
    if (s.landlockPorts()) {
      caps.add(Capability.NETWORK_PORT_RULES);
    }
    if (s.seccomp()) {
      caps.add(Capability.SECCOMP);
    }
    CgroupSupport cg = probed().cgroups();
    if (cg.limits()) {
      caps.addAll(EnumSet.of(Capability.MEMORY_LIMIT, Capability.CPU_LIMIT, Capability.PIDS_LIMIT));
    }
    if (cg.pause()) {
      caps.add(Capability.PAUSE);
    }
    if (cg.usage()) {
      caps.add(Capability.RESOURCE_USAGE);
    }
    return caps;
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    Probed p = probed();
    if (p.launcher() == null || !p.support().usable()) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE,
          "backend process is not available: " + p.support().describe());
    }
    SandboxPolicy policy = config.policy();
    checkPaths(policy);
    if (rootfs != null && !Files.isDirectory(rootfs)) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, "process backend rootfs " + rootfs + " is not a directory");
    }
    List<String> notes = new ArrayList<>();
    Plan plan = Plan.of(policy, p.support(), p.cgroups(), notes);
    return new ProcessBackend(sandboxId, config, p.launcher(), p.support(), plan, notes, rootfs);
  }

  /** Policy paths must exist now (a missing path is an error, never a skipped rule). */
  private static void checkPaths(SandboxPolicy policy) {
    List<FilesystemRule> rules = policy.filesystemRules();
    for (int i = 0; i < rules.size(); i++) {
      Path path = rules.get(i).path();
      if (path.getNameCount() == 0) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "landlock_rules["
                + i
                + "].path (/) would expose the whole host; list the directories the sandbox needs");
      }
      if (!Files.exists(path)) {
        throw new KavachException(
            Reason.POLICY_INVALID, "landlock_rules[" + i + "].path (" + path + ") does not exist");
      }
    }
    Path data = policy.dataDir();
    if (data != null && !Files.isDirectory(data)) {
      throw new KavachException(
          Reason.POLICY_INVALID, "data_dir (" + data + ") is not an existing directory");
    }
  }

  @Override
  public String toString() {
    return "ProcessBackendProvider[" + probed().support().describe() + "]";
  }
}
