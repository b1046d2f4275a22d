package dev.kavach.backend.tee;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backend;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.process.seccomp.BpfProgram;
import dev.kavach.internal.guest.AgentBinary;
import dev.kavach.internal.guest.AgentClient;
import dev.kavach.internal.guest.AgentProtocol;
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.GuestMachine;
import dev.kavach.internal.guest.GuestSeccomp;
import dev.kavach.internal.guest.GuestVm;
import dev.kavach.internal.guest.RootTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One confidential guest for the life of one sandbox: QEMU with the agent's initrd, and
 * kavach-agent in relay mode on the host, which turns Firecracker's vsock handshake on a Unix
 * socket into an AF_VSOCK connection to the guest (Java has no AF_VSOCK). Everything after boot is
 * the same {@link GuestVm} exchange as the microVM's.
 */
final class CvmBackend implements Backend {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final CvmKind kind;
  private final String id;
  private final SandboxConfig config;
  private final CvmProbe.Found found;
  private final GuestMachine machine;
  private final GuestHost host;
  // Compiled once per sandbox: the policy, and so the filter, cannot change while it lives.
  private final Optional<BpfProgram> seccomp;

  private @Nullable GuestVm vm;
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
    this.seccomp = GuestSeccomp.compile(config.policy());
  }

  private Path tool(String name) {
    return host.tool(name)
        .orElseThrow(() -> new KavachException(Reason.LAUNCH_FAILED, name + " not found"));
  }

  @Override
  public void start(Path ws) {
    GuestVm v = GuestVm.create(kind.backend, id, ws, tool("debugfs"));
    vm = v;
    Path dir = v.runDir();
    try {
      Path agentBinary = AgentBinary.extract(dir);
      Path busybox = found.busybox().orElseThrow();
      Path initrd = dir.resolve("initrd.cpio");
      Files.write(
          initrd,
          Initrd.build(
              AgentBinary.bytes(), Files.readAllBytes(busybox), RootTree.applets(host, busybox)));
      Path wsImage = dir.resolve("workspace.ext4");
      v.buildWorkspaceDrive(tool("mkfs.ext4"), wsImage, 256);
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
              initrd,
              QemuCommand.cmdline(AgentProtocol.DEFAULT_PORT),
              wsImage,
              cid,
              intSetting("cbitpos", 51),
              intSetting("reduced-phys-bits", 1));
      Path uds = dir.resolve("v.sock");
      // Java has no AF_VSOCK: the agent binary itself relays Firecracker's handshake to it.
      v.launch(
          List.of(agentBinary.toString(), "--relay", uds.toString(), "--cid", Long.toString(cid)),
          false);
      v.launch(cmd.argv(), true);
      AgentClient client =
          v.awaitAgent(uds, Duration.ofSeconds(intSetting("boot-timeout-seconds", 60)));
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
    GuestVm v = vm;
    if (v == null) {
      throw new KavachException(Reason.INVALID_STATE, kind.backend + " " + id + " is not running");
    }
    return v.exec(spec, enforcement(), seccomp.map(BpfProgram::bytes).orElse(new byte[0]));
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
    // The agent fails the exec if the guest kernel refuses the filter: sent means in force.
    seccomp.ifPresent(p -> e.seccompProfile(p.profileName()).noNewPrivs(true));
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
    GuestVm v = vm;
    if (v != null) {
      v.stop();
    }
  }

  @Override
  public void destroy() {
    GuestVm v = vm;
    vm = null;
    if (v != null) {
      v.destroy();
    }
  }
}
