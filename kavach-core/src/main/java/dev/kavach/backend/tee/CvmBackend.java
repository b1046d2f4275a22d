package dev.kavach.backend.tee;

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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One confidential guest for the life of one sandbox: QEMU with the agent's initrd, and
 * kavach-agent in relay mode on the host, which turns Firecracker's vsock handshake on a Unix
 * socket into an AF_VSOCK connection to the guest (Java has no AF_VSOCK). Everything after boot is
 * the same agent exchange as the microVM's.
 */
final class CvmBackend implements Backend {
  private static final Duration LIFETIME = Duration.ofDays(3650);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final CvmKind kind;
  private final String id;
  private final SandboxConfig config;
  private final CvmProbe.Found found;
  private final GuestMachine machine;
  private final GuestHost host;
  private final Object copyBack = new Object();

  private @Nullable Path runDir;
  private @Nullable Path workspace;
  private @Nullable Path workspaceImage;
  private Exec.@Nullable Running qemu;
  private Exec.@Nullable Running relay;
  private @Nullable AgentClient agent;
  private @Nullable String attestation;

  CvmBackend(
      CvmKind kind,
      String id,
      SandboxConfig config,
      CvmProbe.Found found,
      GuestMachine machine,
      GuestHost host) {
    this.kind = kind;
    this.id = id;
    this.config = config;
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
      Path agentBinary = AgentBinary.extract(dir);
      Path busybox = found.busybox().orElseThrow();
      byte[] initrd =
          Initrd.build(
              AgentBinary.bytes(), Files.readAllBytes(busybox), RootTree.applets(host, busybox));
      Path initrdFile = dir.resolve("initrd.cpio");
      Files.write(initrdFile, initrd);
      Path wsImage = dir.resolve("workspace.ext4");
      DriveImage.build(
          host.tool("mkfs.ext4")
              .orElseThrow(() -> new KavachException(Reason.LAUNCH_FAILED, "mkfs.ext4 not found")),
          ws,
          wsImage,
          "workspace",
          256);
      workspaceImage = wsImage;
      // vhost-vsock CIDs are host-wide; a random one in a 2^31 range does not collide in practice,
      // and QEMU refuses to start (an error, not a mix-up) if it does.
      long cid = 3L + (RANDOM.nextInt() & 0x7fff_fff0);
      QemuCommand cmd =
          new QemuCommand(
              kind,
              found.qemu().orElseThrow(),
              "kavach-" + id,
              machine,
              found.firmware().orElseThrow(),
              found.kernel().orElseThrow(),
              initrdFile,
              QemuCommand.cmdline(AgentProtocol.DEFAULT_PORT),
              wsImage,
              cid,
              intSetting("cbitpos", 51),
              intSetting("reduced-phys-bits", 1));
      Path uds = dir.resolve("v.sock");
      relay =
          Exec.start(
              Exec.command(
                      List.of(
                          agentBinary.toString(),
                          "--relay",
                          uds.toString(),
                          "--cid",
                          Long.toString(cid)))
                  .timeout(LIFETIME)
                  .outputLimit(64 * 1024)
                  .build());
      qemu =
          Exec.start(
              Exec.command(cmd.argv())
                  .cwd(dir)
                  .env(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin"))
                  .timeout(LIFETIME)
                  .outputLimit(64 * 1024)
                  .build());
      AgentClient client =
          new AgentClient(() -> VsockChannel.connect(uds, AgentProtocol.DEFAULT_PORT));
      Duration boot = Duration.ofSeconds(intSetting("boot-timeout-seconds", 60));
      try {
        VsockChannel.connectWhenReady(uds, AgentProtocol.DEFAULT_PORT, boot).close();
        client.ping();
      } catch (IOException e) {
        String console = killAndRead(qemu);
        killAndRead(relay);
        throw new KavachException(
            Reason.LAUNCH_FAILED,
            kind.title
                + " guest did not come up within "
                + boot
                + ": "
                + e.getMessage()
                + (console.isEmpty() ? "" : "; console: " + console));
      }
      agent = client;
      if (host.setting(kind.key("attest")).map("true"::equals).orElse(false)) {
        attestation = attest(client);
      }
    } catch (IOException e) {
      throw new KavachException(Reason.IO, kind.backend + " start: " + e, e);
    }
  }

  private int intSetting(String name, int fallback) {
    String v = host.setting(kind.key(name)).orElse(null);
    try {
      return v == null ? fallback : Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, kind.key(name) + " (" + v + ") must be an integer", e);
    }
  }

  private static String killAndRead(Exec.@Nullable Running r) {
    if (r == null) {
      return "";
    }
    r.kill();
    Exec.Result res = r.await();
    String s = (res.stdoutText() + res.stderrText()).strip();
    return s.length() <= 2000 ? s : "..." + s.substring(s.length() - 2000);
  }

  /** A report bound to a fresh nonce, recorded by size and digest (not verified). */
  private String attest(AgentClient client) {
    byte[] nonce = new byte[Attestation.NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    AgentClient.Result r =
        client.run(
            new ExecSpec(
                id + "-attest",
                Attestation.command(),
                Map.of("PATH", "/bin"),
                nonce,
                Duration.ofSeconds(30),
                1 << 20,
                List.of()),
            "/");
    if (r.exitCode() != 0 || r.stdout().length == 0) {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          kind.title
              + " attestation report failed: "
              + new String(r.stderr(), java.nio.charset.StandardCharsets.UTF_8).strip());
    }
    return "attestation report from "
        + new String(r.stderr(), java.nio.charset.StandardCharsets.UTF_8).strip()
        + ": "
        + r.stdout().length
        + " bytes, sha256 "
        + HexFormat.of().formatHex(AgentBinary.sha256(r.stdout()))
        + ", nonce "
        + HexFormat.of().formatHex(nonce)
        + " (retrieved, not verified)";
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    AgentClient client = agent;
    if (client == null) {
      throw new KavachException(Reason.INVALID_STATE, kind.backend + " " + id + " is not running");
    }
    ExecOutcome outcome = GuestExec.run(client, spec, "/workspace", enforcement());
    copyWorkspaceBack();
    return outcome;
  }

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
        Enforcement.builder(kind.backend)
            .networkIsolated(true)
            .memoryLimitBytes((long) machine.memMib() << 20)
            .cpuLimit(machine.vcpus())
            .note(
                kind.title
                    + " guest: "
                    + machine.vcpus()
                    + " vCPU, "
                    + machine.memMib()
                    + " MiB of memory the host cannot read, no network device; the workspace"
                    + " drive is not encrypted (the host reads it back)");
    if (attestation != null) {
      e.note(attestation);
    }
    if (config.policy().network().enabled()) {
      e.note("network requested, but the guest has no network device (none is implemented)");
    }
    return e.build();
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
    agent = null;
    List<Exception> errors = new ArrayList<>();
    killAndRead(qemu);
    qemu = null;
    killAndRead(relay);
    relay = null;
    try {
      copyWorkspaceBack();
    } catch (RuntimeException e) {
      errors.add(e);
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
          Reason.IO, kind.backend + " " + id + " cleanup: " + errors.get(0), errors.get(0));
    }
  }
}
