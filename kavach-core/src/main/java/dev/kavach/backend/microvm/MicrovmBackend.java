package dev.kavach.backend.microvm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backend;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.fs.Trees;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.AgentClient;
import dev.kavach.internal.guest.AgentProtocol;
import dev.kavach.internal.guest.DriveImage;
import dev.kavach.internal.guest.GuestExec;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.GuestMachine;
import dev.kavach.internal.guest.RootTree;
import dev.kavach.internal.guest.VsockChannel;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One Firecracker VM for the life of one sandbox. Start builds the drives and boots the VM, and
 * waits for the agent; exec goes through the agent; destroy kills the VMM and removes the run
 * directory, the jail and its cgroup.
 */
final class MicrovmBackend implements Backend {
  // The VMM lives as long as the sandbox; Exec's own timeout must never fire first.
  private static final Duration VMM_LIFETIME = Duration.ofDays(3650);
  private static final int CONSOLE_TAIL = 64 * 1024;

  private final String id;
  private final SandboxConfig config;
  private final MicrovmSettings settings;
  private final MicrovmProbe.Found found;
  private final GuestMachine machine;
  private final GuestHost host;
  private final Object copyBack = new Object();

  private @Nullable Path runDir;
  private @Nullable Path workspace;
  private @Nullable Path workspaceImage;
  private @Nullable Jailer jailer;
  private Exec.@Nullable Running vmm;
  private @Nullable AgentClient agent;
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
  }

  @Override
  public void start(Path ws) {
    try {
      Path dir =
          Files.createDirectory(
              Path.of("/dev/shm", "kavach-" + id),
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      runDir = dir;
      workspace = ws;
      Path mkfs = host.tool("mkfs.ext4").orElseThrow();
      Path rootTree = Files.createDirectory(dir.resolve("rootfs"));
      RootTree.populate(rootTree, settings.rootfsDir(), host);
      AgentBinary.extract(rootTree.resolve("sbin"));
      Path rootImage = dir.resolve("rootfs.ext4");
      DriveImage.build(mkfs, rootTree, rootImage, "kavach-root", 32);
      Trees.deleteRecursively(rootTree);
      Path wsImage = dir.resolve("workspace.ext4");
      DriveImage.build(mkfs, ws, wsImage, "workspace", settings.workspaceSizeMib());
      workspaceImage = wsImage;
      Path kernel = found.kernel().orElseThrow();
      Path fc = found.firecracker().orElseThrow();
      List<String> argv;
      Path uds;
      Path apiSocket;
      if (found.jailer().isPresent()) {
        Jailer j =
            new Jailer(
                found.jailer().get(),
                fc,
                id,
                settings.jailerUid(),
                settings.jailerGid(),
                dir.resolve("jail"),
                HostProbe.system().cgroups().versionOf("memory").orElse("v2").equals("v1") ? 1 : 2,
                machine);
        jailer = j;
        Files.createDirectories(j.root());
        // Everything the VMM opens must be inside its chroot and owned by its uid.
        link(kernel, j.hostPath("vmlinux"));
        Files.move(rootImage, j.hostPath("rootfs.ext4"));
        Files.move(wsImage, j.hostPath("workspace.ext4"));
        workspaceImage = j.hostPath("workspace.ext4");
        FirecrackerConfig cfg =
            new FirecrackerConfig(
                "/vmlinux",
                "/rootfs.ext4",
                "/workspace.ext4",
                "/v.sock",
                machine,
                AgentProtocol.DEFAULT_PORT);
        Files.writeString(j.hostPath("config.json"), cfg.toJson(), StandardCharsets.UTF_8);
        for (String f : List.of("vmlinux", "rootfs.ext4", "workspace.ext4", "config.json")) {
          chown(j.hostPath(f), j.uid(), j.gid());
        }
        argv = j.argv("/config.json", "/api.sock");
        uds = j.hostPath("v.sock");
        apiSocket = j.hostPath("api.sock");
      } else {
        uds = dir.resolve("v.sock");
        apiSocket = dir.resolve("api.sock");
        FirecrackerConfig cfg =
            new FirecrackerConfig(
                kernel.toString(),
                rootImage.toString(),
                wsImage.toString(),
                uds.toString(),
                machine,
                AgentProtocol.DEFAULT_PORT);
        Path configFile = dir.resolve("config.json");
        Files.writeString(configFile, cfg.toJson(), StandardCharsets.UTF_8);
        argv =
            List.of(
                fc.toString(),
                "--config-file",
                configFile.toString(),
                "--api-sock",
                apiSocket.toString(),
                "--level",
                "Warning");
      }
      api = new FirecrackerApi(apiSocket);
      vmm =
          Exec.start(
              Exec.command(argv)
                  .cwd(dir)
                  .env(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin"))
                  .timeout(VMM_LIFETIME)
                  .outputLimit(CONSOLE_TAIL)
                  .build());
      AgentClient client =
          new AgentClient(() -> VsockChannel.connect(uds, AgentProtocol.DEFAULT_PORT));
      try {
        VsockChannel.connectWhenReady(uds, AgentProtocol.DEFAULT_PORT, settings.bootTimeout())
            .close();
        client.ping();
      } catch (IOException e) {
        Exec.Running v = vmm;
        String console = "";
        if (v != null) {
          v.kill();
          Exec.Result r = v.await();
          console = (r.stdoutText() + r.stderrText()).strip();
        }
        throw new KavachException(
            Reason.LAUNCH_FAILED,
            "microVM did not come up within "
                + settings.bootTimeout()
                + ": "
                + e.getMessage()
                + (console.isEmpty() ? "" : "; console: " + tail(console)));
      }
      agent = client;
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "microvm start: " + e, e);
    }
  }

  private static String tail(String s) {
    return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
  }

  private static void link(Path from, Path to) throws IOException {
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to); // across filesystems (/dev/shm vs the kernel's disk)
    }
  }

  private static void chown(Path p, int uid, int gid) throws IOException {
    Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    AgentClient client = agent;
    if (client == null) {
      throw new KavachException(Reason.INVALID_STATE, "microvm " + id + " is not running");
    }
    ExecOutcome outcome = GuestExec.run(client, spec, "/workspace", enforcement());
    copyWorkspaceBack();
    return outcome;
  }

  /** The agent synced the guest before the exit frame, so the image is consistent now. */
  private void copyWorkspaceBack() {
    Path image = workspaceImage;
    Path ws = workspace;
    Path dir = runDir;
    if (image == null || ws == null || dir == null) {
      return;
    }
    synchronized (copyBack) {
      DriveImage.readBack(host.tool("debugfs").orElseThrow(), image, ws, dir);
    }
  }

  Enforcement enforcement() {
    Enforcement.Builder e =
        Enforcement.builder("microvm")
            .networkIsolated(true)
            .readOnlyRoot(true)
            .memoryLimitBytes((long) machine.memMib() << 20)
            .cpuLimit(
                machine.cpuQuota() > 0 && jailer != null ? machine.cpuQuota() : machine.vcpus());
    e.note(
        "firecracker microVM: "
            + machine.vcpus()
            + " vCPU, "
            + machine.memMib()
            + " MiB, no network device, "
            + (jailer != null
                ? "jailed as uid " + jailer.uid() + " in cgroup kavach/" + id
                : "VMM not jailed"));
    if (config.policy().network().enabled()) {
      e.note("network requested, but a microVM has no network device (none is implemented)");
    }
    if (machine.cpuQuota() > 0 && jailer == null) {
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
    AgentClient client = agent;
    if (client != null) {
      client.killAll();
    }
  }

  @Override
  public void destroy() {
    List<Exception> errors = new ArrayList<>();
    agent = null;
    Exec.Running v = vmm;
    vmm = null;
    if (v != null) {
      v.kill();
      v.await();
    }
    try {
      copyWorkspaceBack();
    } catch (RuntimeException e) {
      errors.add(e);
    }
    Jailer j = jailer;
    if (j != null) {
      removeCgroup(j, errors);
    }
    Path dir = runDir;
    runDir = null;
    if (dir != null) {
      try {
        Trees.deleteRecursively(dir);
      } catch (IOException e) {
        errors.add(e);
      }
    }
    if (!errors.isEmpty()) {
      throw new KavachException(
          Reason.IO, "microvm " + id + " cleanup: " + errors.get(0), errors.get(0));
    }
  }

  /** The jailer leaves its cgroup behind when the VMM dies; it is ours to remove. */
  private void removeCgroup(Jailer j, List<Exception> errors) {
    var layout = HostProbe.system().cgroups();
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
        errors.add(e);
      }
    }
  }
}
