package dev.kavach.backend.microvm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backend;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.process.seccomp.BpfProgram;
import dev.kavach.internal.fs.Trees;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.AgentProtocol;
import dev.kavach.internal.guest.DriveImage;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.GuestMachine;
import dev.kavach.internal.guest.GuestSeccomp;
import dev.kavach.internal.guest.GuestVm;
import dev.kavach.internal.guest.RootTree;
import dev.kavach.internal.host.CgroupLayout;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One Firecracker VM for the life of one sandbox. Start builds the drives (in the jail when
 * jailed), writes the config, starts the VMM and waits for the agent; exec goes through the agent;
 * destroy kills the VMM and removes the run directory, the jail and its cgroup.
 */
final class MicrovmBackend implements Backend {
  private final String id;
  private final SandboxConfig config;
  private final MicrovmSettings settings;
  private final MicrovmProbe.Found found;
  private final GuestMachine machine;
  private final GuestHost host;
  // Compiled once per sandbox: the policy, and so the filter, cannot change while it lives.
  private final Optional<BpfProgram> seccomp;

  private @Nullable GuestVm vm;
  private @Nullable Jailer jailer;
  private @Nullable FirecrackerApi api;

  MicrovmBackend(
      String id,
      SandboxConfig config,
      MicrovmSettings settings,
      MicrovmProbe.Found found,
      GuestMachine machine,
      GuestHost host) {
    this.id = id;
    this.config = config;
    this.settings = settings;
    this.found = found;
    this.machine = machine;
    this.host = host;
    this.seccomp = GuestSeccomp.compile(config.policy());
  }

  private Path tool(String name) {
    return host.tool(name)
        .orElseThrow(() -> new KavachException(Reason.LAUNCH_FAILED, name + " not found"));
  }

  @Override
  public void start(Path ws) {
    GuestVm v = GuestVm.create("microvm", id, ws, tool("debugfs"));
    vm = v;
    Path dir = v.runDir();
    Path kernel = found.kernel().orElseThrow();
    Path fc = found.firecracker().orElseThrow();
    try {
      Jailer j = null;
      if (found.jailer().isPresent()) {
        CgroupLayout cgroups = HostProbe.system().cgroups();
        j =
            new Jailer(
                found.jailer().get(),
                fc,
                id,
                settings.jailerUid(),
                settings.jailerGid(),
                dir.resolve("jail"),
                cgroups.versionOf("memory").orElse("v2").equals("v1") ? 1 : 2,
                machine);
        jailer = j;
        Files.createDirectories(j.root());
      }
      // Everything the VMM opens is built where it will see it: in the jail's root when jailed.
      Path images = j != null ? j.root() : dir;
      Path rootTree = Files.createDirectory(dir.resolve("rootfs"));
      RootTree.populate(rootTree, settings.rootfsDir(), host);
      AgentBinary.extract(rootTree.resolve("sbin"));
      DriveImage.build(
          tool("mkfs.ext4"), rootTree, images.resolve("rootfs.ext4"), "kavach-root", 32);
      Trees.deleteRecursively(rootTree);
      v.buildWorkspaceDrive(
          tool("mkfs.ext4"), images.resolve("workspace.ext4"), settings.workspaceSizeMib());
      List<String> argv;
      Path uds;
      if (j != null) {
        placeKernel(kernel, j.hostPath("vmlinux"), j);
        FirecrackerConfig cfg =
            new FirecrackerConfig(
                "/vmlinux",
                "/rootfs.ext4",
                "/workspace.ext4",
                "/v.sock",
                machine,
                AgentProtocol.DEFAULT_PORT);
        Files.writeString(j.hostPath("config.json"), cfg.toJson(), StandardCharsets.UTF_8);
        // Our own files in the jail belong to the jailed VMM, and so does the jail's root, where
        // it creates its API and vsock sockets. The kernel is left alone (see placeKernel).
        for (String f : List.of("rootfs.ext4", "workspace.ext4", "config.json")) {
          chown(j.hostPath(f), j.uid(), j.gid());
        }
        chown(j.root(), j.uid(), j.gid());
        argv = j.argv("/config.json", "/api.sock");
        uds = j.hostPath("v.sock");
        api = new FirecrackerApi(j.hostPath("api.sock"));
      } else {
        uds = dir.resolve("v.sock");
        FirecrackerConfig cfg =
            new FirecrackerConfig(
                kernel.toString(),
                images.resolve("rootfs.ext4").toString(),
                images.resolve("workspace.ext4").toString(),
                uds.toString(),
                machine,
                AgentProtocol.DEFAULT_PORT);
        Path configFile = dir.resolve("config.json");
        Files.writeString(configFile, cfg.toJson(), StandardCharsets.UTF_8);
        Path apiSocket = dir.resolve("api.sock");
        argv =
            List.of(
                fc.toString(),
                "--config-file",
                configFile.toString(),
                "--api-sock",
                apiSocket.toString(),
                "--level",
                "Warning");
        api = new FirecrackerApi(apiSocket);
      }
      v.launch(argv, true);
      v.awaitAgent(uds, settings.bootTimeout());
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "microvm start: " + e, e);
    }
  }

  /**
   * Puts the kernel in the jail. A hard link must never be chowned (that would chown the host's own
   * file), so a kernel the jail user can already read is linked, and any other is copied and the
   * copy chowned. Hard links fail across filesystems (/dev/shm vs the kernel's disk): copy.
   */
  private static void placeKernel(Path kernel, Path target, Jailer j) throws IOException {
    boolean worldReadable =
        Files.getPosixFilePermissions(kernel)
            .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
    if (worldReadable) {
      try {
        Files.createLink(target, kernel);
        return;
      } catch (IOException | UnsupportedOperationException e) {
        // Fall through to a copy.
      }
    }
    Files.copy(kernel, target);
    chown(target, j.uid(), j.gid());
  }

  private static void chown(Path p, int uid, int gid) throws IOException {
    Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    GuestVm v = vm;
    if (v == null) {
      throw new KavachException(Reason.INVALID_STATE, "microvm " + id + " is not running");
    }
    return v.exec(spec, enforcement(), seccomp.map(BpfProgram::bytes).orElse(new byte[0]));
  }

  Enforcement enforcement() {
    Jailer j = jailer;
    Enforcement.Builder e =
        Enforcement.builder("microvm")
            .networkIsolated(true)
            .readOnlyRoot(true)
            .memoryLimitBytes((long) machine.memMib() << 20)
            .cpuLimit(machine.cpuQuota() > 0 && j != null ? machine.cpuQuota() : machine.vcpus());
    // The agent fails the exec (an error frame) if the guest kernel refuses the filter, so a
    // filter that is sent is a filter in force.
    seccomp.ifPresent(p -> e.seccompProfile(p.profileName()).noNewPrivs(true));
    e.note(
        "firecracker microVM: "
            + machine.vcpus()
            + " vCPU, "
            + machine.memMib()
            + " MiB, no network device, "
            + (j != null
                ? "jailed as uid " + j.uid() + " in cgroup " + Jailer.PARENT_CGROUP + "/" + id
                : "VMM not jailed"));
    if (config.policy().network().enabled()) {
      e.note("network requested, but a microVM has no network device (none is implemented)");
    }
    if (machine.cpuQuota() > 0 && j == null) {
      e.note("cpu_limit " + machine.cpuQuota() + " rounded up to " + machine.vcpus() + " vCPU");
    }
    return e.build();
  }

  @Override
  public void pause() {
    apiCall(FirecrackerApi.pause());
  }

  @Override
  public void resume() {
    apiCall(FirecrackerApi.resume());
  }

  private void apiCall(String request) {
    FirecrackerApi a = api;
    if (a == null) {
      throw new KavachException(Reason.INVALID_STATE, "microvm " + id + " is not running");
    }
    try {
      a.send(request);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "microvm " + id + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void stop() {
    GuestVm v = vm;
    if (v != null) {
      v.stop();
    }
  }

  @Override
  public void destroy() {
    List<RuntimeException> errors = new ArrayList<>();
    GuestVm v = vm;
    vm = null;
    if (v != null) {
      try {
        v.destroy();
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    Jailer j = jailer;
    jailer = null;
    if (j != null) {
      removeCgroup(j, errors);
    }
    if (!errors.isEmpty()) {
      throw errors.get(0);
    }
  }

  /** The jailer leaves its cgroup behind when the VMM dies; it is ours to remove. */
  private void removeCgroup(Jailer j, List<RuntimeException> errors) {
    CgroupLayout layout = HostProbe.system().cgroups();
    List<Path> dirs = new ArrayList<>();
    if (j.cgroupVersion() == 1) {
      for (String c : List.of("memory", "cpu", "cpuset", "pids")) {
        String mount = layout.v1().get(c);
        if (mount != null) {
          dirs.add(Path.of(mount, Jailer.PARENT_CGROUP, id));
        }
      }
    } else if (layout.v2Mount() != null) {
      dirs.add(Path.of(layout.v2Mount(), Jailer.PARENT_CGROUP, id));
    }
    for (Path d : dirs) {
      try {
        Files.deleteIfExists(d);
      } catch (IOException e) {
        errors.add(new KavachException(Reason.IO, "cannot remove cgroup " + d + ": " + e, e));
      }
    }
  }
}
