package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backend;
import dev.kavach.backend.EgressEndpoint;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.process.cgroup.ExecCgroup;
import dev.kavach.backend.process.cgroup.SandboxCgroup;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One sandbox on the process backend. Each exec is one {@code kavach-launch} run with its own
 * namespaces, view and restrictions; the sandbox's workspace (and, with limits, its cgroup) persist
 * across execs.
 *
 * <p>On a root host every sandbox gets its own unprivileged uid, from a range no distribution
 * allocates ({@link #SANDBOX_UID_BASE} upward), and the workspace and policy paths are idmapped so
 * the command acts as their owner there and nowhere else. Without root the command keeps the JVM's
 * uid inside a user namespace.
 */
final class ProcessBackend implements Backend {
  /** First uid (and gid) handed to sandboxes on a root host; 2^24 follow it. */
  static final int SANDBOX_UID_BASE = 0x7E00_0000;

  private static final int SANDBOX_UID_COUNT = 1 << 24;
  private static final long DEFAULT_TMP_BYTES = 256L << 20;
  private static final long NOFILE = 4096;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String sandboxId;
  private final SandboxPolicy policy;
  private final Launcher launcher;
  private final Plan plan;
  private final List<String> notes;
  private final int uid;
  private final int gid;
  private final Set<Exec.Running> running = ConcurrentHashMap.newKeySet();
  private final boolean bestEffort;
  private final boolean ownedWorkspace;
  private volatile @Nullable Path workspace;
  private volatile @Nullable SandboxCgroup cgroup;

  ProcessBackend(
      String sandboxId,
      SandboxConfig config,
      Launcher launcher,
      HostSupport host,
      Plan plan,
      List<String> notes) {
    this.sandboxId = sandboxId;
    this.policy = config.policy();
    this.launcher = launcher;
    this.plan = plan;
    this.notes = List.copyOf(notes);
    this.bestEffort = policy.bestEffort();
    this.ownedWorkspace = config.workdir() == null;
    if (host.euid() == 0) {
      // Per sandbox, so two sandboxes never share an owner of anything.
      this.uid = SANDBOX_UID_BASE + RANDOM.nextInt(SANDBOX_UID_COUNT);
      this.gid = uid;
    } else {
      int[] ids = ownIds();
      this.uid = ids[0];
      this.gid = ids[1];
    }
  }

  /** The command's host uid. */
  int uid() {
    return uid;
  }

  @Override
  public void start(Path ws) {
    RunDir.checkBase();
    if (ownedWorkspace && uid != HostProbe.system().uid()) {
      // The sandbox's own fresh workspace belongs to its uid, so it is bound as is; a caller's
      // directory is never chowned: the launcher idmaps it instead (its owner acts as the uid).
      try {
        Files.setAttribute(ws, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(ws, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        throw new KavachException(
            Reason.IO, "cannot give workspace " + ws + " to the sandbox's uid: " + e, e);
      }
    }
    if (plan.cgroup()) {
      // Limits fail closed here (or are noted under best effort); see SandboxCgroup#create.
      cgroup = SandboxCgroup.create(sandboxId, plan.limits(), bestEffort, HostProbe.system());
    }
    this.workspace = ws;
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    Path ws = workspace;
    if (ws == null) {
      throw new KavachException(Reason.INVALID_STATE, "sandbox " + sandboxId + " is not started");
    }
    SandboxCgroup cg = cgroup;
    ExecCgroup group = cg == null ? null : cg.newExec(spec.execId());
    try (RunDir run = RunDir.create(spec.execId())) {
      LaunchSpec.Builder launch = launchSpec(spec, run, ws);
      if (group != null) {
        launch.cgroupProcs(group.procsFiles());
      }
      Exec.Running r =
          Exec.start(
              Exec.command(launch.build().argv())
                  .env(Map.of())
                  .cwd(Path.of("/"))
                  .stdin(spec.stdin())
                  .timeout(spec.timeout())
                  .outputLimit(spec.outputLimit())
                  .onTimeout(p -> kill(p, group))
                  .build());
      running.add(r);
      Exec.Result res;
      try {
        res = r.await();
      } finally {
        running.remove(r);
      }
      return outcome(res, LaunchReport.parse(run.read("status")), cg, group, spec.egress());
    } finally {
      if (group != null) {
        group.destroy();
      }
    }
  }

  private LaunchSpec.Builder launchSpec(ExecSpec spec, RunDir run, Path ws) {
    LaunchSpec.Builder b =
        LaunchSpec.builder(launcher.path())
            .status(run.write("status", new byte[0]))
            .parentPid(ProcessHandle.current().pid())
            .envFile(run.write("env", LaunchSpec.envFile(spec.env())))
            .ids(uid, gid)
            .shareNetwork(plan.shareNetwork() && spec.egress() == null)
            .hostname("kavach")
            .workspace(ws)
            .system(LaunchSpec.SYSTEM_DIRS)
            .tmpSize(tmpSize())
            .nofile(NOFILE);
    if (!spec.secretFiles().isEmpty()) {
      byte[] secrets = LaunchSpec.secretsFile(spec.secretFiles());
      try {
        b.secretsFile(run.write("secrets", secrets));
      } finally {
        Arrays.fill(secrets, (byte) 0);
      }
    }
    for (FilesystemRule rule : policy.filesystemRules()) {
      Path real = realPath(rule.path());
      if (rule.access() == FilesystemRule.Access.RW) {
        b.readWrite(real);
      } else {
        b.readOnly(real);
      }
    }
    Path data = policy.dataDir();
    if (data != null) {
      b.readWrite(realPath(data));
    }
    if (plan.landlock()) {
      b.landlock();
      plan.ports().forEach(b::allowPort);
    }
    EgressEndpoint egress = spec.egress();
    if (egress != null) {
      b.egressRelay(egress.relayPort(), egress.socket());
    } else if (plan.egress()) {
      // Fail closed: without the proxy the host rules would not be enforced at all.
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "network.allowed_hosts: sandbox " + sandboxId + " has no egress proxy to route through");
    }
    String seccomp = plan.seccompProfile();
    if (seccomp != null) {
      b.seccomp(run.write("seccomp.bpf", plan.seccompProgram()), seccomp);
    }
    return b.command(spec.argv());
  }

  private long tmpSize() {
    Long mb = policy.memoryLimitMb();
    // tmpfs pages count against the memory limit anyway; a smaller /tmp fails sooner and clearer.
    return mb == null ? DEFAULT_TMP_BYTES : Math.min(DEFAULT_TMP_BYTES, mb << 20);
  }

  /** The real path, without symlinks: the launcher never follows one while building the view. */
  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new KavachException(
          Reason.POLICY_INVALID, "policy path " + p + " cannot be resolved: " + e.getMessage(), e);
    }
  }

  private ExecOutcome outcome(
      Exec.Result res,
      LaunchReport report,
      @Nullable SandboxCgroup cg,
      @Nullable ExecCgroup group,
      @Nullable EgressEndpoint egress) {
    if (report.failure().isPresent()) {
      throw report.failure().get().toException();
    }
    int exit;
    OptionalInt signal;
    if (res.timedOut() || res.killed()) {
      exit = 128 + 9;
      signal = OptionalInt.of(9);
    } else if (report.exitCode().isPresent()) {
      exit = report.exitCode().getAsInt();
      signal = OptionalInt.empty();
    } else if (report.signal().isPresent()) {
      signal = report.signal();
      exit = 128 + signal.getAsInt();
    } else if (report.initKilled().isPresent()) {
      signal = report.initKilled();
      exit = 128 + signal.getAsInt();
    } else {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          "kavach-launch exited "
              + res.exitValue()
              + " without reporting the command's end"
              + (res.stderrText().isBlank() ? "" : ": " + res.stderrText().strip()));
    }
    // The kernel's OOM killer sends SIGKILL; its counter in the exec's group says it was the one.
    boolean oom =
        group != null && signal.isPresent() && signal.getAsInt() == 9 && group.oomKilled();
    return new ExecOutcome(
        exit,
        signal,
        res.timedOut(),
        oom,
        res.stdout().bytes(),
        res.stderr().bytes(),
        res.stdout().truncated(),
        res.stderr().truncated(),
        res.duration(),
        enforcement(report, cg, group, egress),
        group == null ? null : group.usage().orElse(null));
  }

  private Enforcement enforcement(
      LaunchReport r,
      @Nullable SandboxCgroup cg,
      @Nullable ExecCgroup group,
      @Nullable EgressEndpoint egress) {
    Enforcement.Builder e = Enforcement.builder("process");
    r.namespaces().forEach(e::namespace);
    boolean isolated = r.networkIsolated();
    if (egress != null) {
      if (r.egressRelayPort() != egress.relayPort()) {
        throw new KavachException(
            Reason.ENFORCEMENT_FAILED,
            "egress-relay: the launcher did not report the relay on port " + egress.relayPort());
      }
      e.egress(egress.report());
      // The proxy is the only way out; it counts as isolation only when it also narrows where
      // that way leads (an allowlist), not when it lets every host but a few through.
      isolated = isolated && !egress.report().allowedHosts().isEmpty();
      e.note(
          "network: only through the egress proxy (relay 127.0.0.1:"
              + egress.relayPort()
              + "): "
              + egress.report().describe());
    }
    e.networkIsolated(isolated)
        .readOnlyRoot(r.readOnlyRoot())
        .seccompProfile(r.seccompProfile())
        .landlock(r.landlockAbi(), r.landlockRules())
        .capabilitiesDropped(r.capabilitiesDropped())
        .noNewPrivs(r.noNewPrivs())
        .uid(r.uid());
    notes.forEach(e::note);
    // Limits count only if the launcher reported joining every group of the exec.
    if (cg != null && group != null && r.cgroups().size() == group.procsFiles().size()) {
      cg.reportTo(e);
    }
    return e.build();
  }

  /**
   * Kills a launch: the supervisor's death takes init (PDEATHSIG) and so every process of it; the
   * exec's cgroup catches anything that might be between a fork and its PID namespace.
   */
  private static void kill(Process launcher, @Nullable ExecCgroup group) {
    Exec.killTree(launcher);
    if (group != null) {
      group.kill();
    }
  }

  @Override
  public void pause() {
    requireCgroup("pause").freeze();
  }

  @Override
  public void resume() {
    requireCgroup("resume").thaw();
  }

  private SandboxCgroup requireCgroup(String what) {
    SandboxCgroup cg = cgroup;
    if (cg == null) {
      throw new KavachException(
          Reason.BACKEND_UNAVAILABLE, "cannot " + what + ": this sandbox has no cgroup");
    }
    return cg;
  }

  @Override
  public void stop() {
    running.forEach(Exec.Running::kill);
    SandboxCgroup cg = cgroup;
    if (cg != null) {
      cg.kill();
    }
  }

  @Override
  public void destroy() {
    running.forEach(Exec.Running::kill);
    SandboxCgroup cg = cgroup;
    cgroup = null;
    if (cg != null) {
      cg.destroy();
    }
  }

  /** This JVM's uid and gid, from {@code /proc/self/status}. */
  private static int[] ownIds() {
    int[] ids = {-1, -1};
    for (String line : HostProbe.read("/proc/self/status").split("\n")) {
      String[] f = line.split("\\s+");
      if (f[0].equals("Uid:") && f.length > 2) {
        ids[0] = Integer.parseInt(f[2]);
      } else if (f[0].equals("Gid:") && f.length > 2) {
        ids[1] = Integer.parseInt(f[2]);
      }
    }
    return ids;
  }

  @Override
  public String toString() {
    return "ProcessBackend[" + sandboxId + ", uid " + Integer.toUnsignedString(uid) + "]";
  }
}
