package dev.kavach.internal.guest;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.fs.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The host side of one guest VM, shared by the microvm, sev and tdx backends: its private run
 * directory, the long-lived host processes (VMM, vsock relay), the agent connection, and the
 * workspace drive that is read back into the host workspace after every exec. What differs between
 * the backends (images, command lines, jail) stays in them.
 *
 * <pre>{@code
 * GuestVm vm = GuestVm.create("microvm", id, workspace, debugfs);
 * vm.launch(argv, true);
 * vm.awaitAgent(uds, Duration.ofSeconds(10));
 * ExecOutcome o = vm.exec(spec, enforcement);
 * vm.destroy();
 * }</pre>
 */
public final class GuestVm {
  // The VMM lives as long as the sandbox; Exec's own timeout must never fire first.
  private static final Duration LIFETIME = Duration.ofDays(3650);
  private static final int CONSOLE_BYTES = 64 * 1024;
  private static final int CONSOLE_TAIL = 2000;

  private final String name;
  private final Path runDir;
  private final Path workspace;
  private final Path debugfs;
  private final List<Exec.Running> processes = new CopyOnWriteArrayList<>();
  private final Object copyBack = new Object();
  private volatile @Nullable Path workspaceImage;
  private volatile Exec.@Nullable Running console;
  private volatile @Nullable AgentClient agent;

  private GuestVm(String name, Path runDir, Path workspace, Path debugfs) {
    this.name = name;
    this.runDir = runDir;
    this.workspace = workspace;
    this.debugfs = debugfs;
  }

  /**
   * Creates the run directory {@code /dev/shm/kavach-<sandbox-id>} (tmpfs, 0700): images, sockets
   * and the agent copy live there, in memory, and leak checks find it by the sandbox id.
   *
   * @throws KavachException with {@link Reason#IO} if it cannot be created
   */
  public static GuestVm create(String backend, String sandboxId, Path workspace, Path debugfs) {
    return new GuestVm(
        backend + " " + sandboxId, runDirectory(backend, sandboxId), workspace, debugfs);
  }

  /**
   * Creates {@code /dev/shm/kavach-<sandbox-id>}, mode 0700 (also the sgx backend's run directory).
   *
   * @throws KavachException with {@link Reason#IO} if it cannot be created
   */
  public static Path runDirectory(String backend, String sandboxId) {
    try {
      return Files.createDirectory(
          Path.of("/dev/shm", "kavach-" + sandboxId),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new KavachException(Reason.IO, backend + " run directory: " + e, e);
    }
  }

  /** The private run directory. */
  public Path runDir() {
    return runDir;
  }

  /** Builds the workspace drive image from the workspace directory, at {@code image}. */
  public void buildWorkspaceDrive(Path mkfs, Path image, int minMib) {
    DriveImage.build(mkfs, workspace, image, "workspace", minMib);
    workspaceImage = image;
  }

  /**
   * Starts a host process that lives as long as the guest.
   *
   * @param isConsole whether its output is the guest's serial console (quoted when boot fails)
   */
  public Exec.Running launch(List<String> argv, boolean isConsole) {
    Exec.Running r =
        Exec.start(
            Exec.command(argv)
                .cwd(runDir)
                .env(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin"))
                .timeout(LIFETIME)
                .outputLimit(CONSOLE_BYTES)
                .build());
    processes.add(r);
    if (isConsole) {
      console = r;
    }
    return r;
  }

  /**
   * Waits until the agent answers a ping through the Firecracker-style socket.
   *
   * @throws KavachException with {@link Reason#LAUNCH_FAILED} quoting the end of the console
   */
  public AgentClient awaitAgent(Path uds, Duration bootTimeout) {
    AgentClient client =
        new AgentClient(() -> VsockChannel.connect(uds, AgentProtocol.DEFAULT_PORT));
    try {
      VsockChannel.connectWhenReady(uds, AgentProtocol.DEFAULT_PORT, bootTimeout).close();
      client.ping();
    } catch (IOException e) {
      String tail = consoleTail();
      killProcesses();
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          name
              + " did not come up within "
              + bootTimeout
              + ": "
              + e.getMessage()
              + (tail.isEmpty() ? "" : "; console: " + tail));
    }
    agent = client;
    return client;
  }

  private String consoleTail() {
    Exec.Running c = console;
    if (c == null) {
      return "";
    }
    c.kill();
    Exec.Result r = c.await();
    String s = (r.stdoutText() + r.stderrText()).strip();
    return s.length() <= CONSOLE_TAIL ? s : "..." + s.substring(s.length() - CONSOLE_TAIL);
  }

  /**
   * Runs one command through the agent in {@code /workspace}, under {@code seccompBpf} when it is
   * not empty, then reads the workspace drive back (the agent synced the guest before its exit
   * frame, so the image is consistent).
   */
  public ExecOutcome exec(ExecSpec spec, Enforcement enforcement, byte[] seccompBpf) {
    AgentClient client = agent;
    if (client == null) {
      throw new KavachException(Reason.INVALID_STATE, name + " is not running");
    }
    ExecOutcome outcome = GuestExec.run(client, spec, "/workspace", enforcement, seccompBpf);
    copyWorkspaceBack();
    return outcome;
  }

  private void copyWorkspaceBack() {
    Path image = workspaceImage;
    if (image == null || !Files.exists(image)) {
      return;
    }
    synchronized (copyBack) {
      DriveImage.readBack(debugfs, image, workspace, runDir);
    }
  }

  /** Kills every running command (the VM keeps running). */
  public void stop() {
    AgentClient client = agent;
    if (client != null) {
      client.killAll();
    }
  }

  private void killProcesses() {
    for (Exec.Running r : processes) {
      r.kill();
      r.await();
    }
    processes.clear();
  }

  /**
   * Kills the host processes, reads the workspace back a last time and removes the run directory.
   * Idempotent.
   *
   * @throws KavachException with {@link Reason#IO} naming the first failure
   */
  public void destroy() {
    agent = null;
    List<Exception> errors = new ArrayList<>();
    killProcesses();
    try {
      copyWorkspaceBack();
    } catch (RuntimeException e) {
      errors.add(e);
    }
    workspaceImage = null;
    try {
      Trees.deleteRecursively(runDir);
    } catch (IOException e) {
      errors.add(e);
    }
    if (!errors.isEmpty()) {
      throw new KavachException(
          Reason.IO, name + " cleanup: " + errors.get(0).getMessage(), errors.get(0));
    }
  }
}
