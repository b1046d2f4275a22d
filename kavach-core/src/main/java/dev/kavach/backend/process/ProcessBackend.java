package dev.kavach.backend.process;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backend;
import dev.kavach.backend.EgressEndpoint;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.SecretFile;
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
import java.util.concurrent.atomic.AtomicLong;
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

  /**
   * System property that turns off preparing launches ahead of execs ({@code false}); on by
   * default. For measuring the cold path.
   */
  static final String PREPARE_PROPERTY = "kavach.process.prepare";

  private final String sandboxId;
  private final SandboxPolicy policy;
  private final Launcher launcher;
  private final Plan plan;
  private final List<String> notes;
  private final int uid;
  private final int gid;
  private final Set<Exec.Running> running = ConcurrentHashMap.newKeySet();

  /**
   * Set by {@link #stop}. An exec registers in {@link #running} only after its launcher started, so
   * a stop can land in between (the command already running): then only the cgroup kill reaches the
   * launcher, which dies without reporting. Such an exec was killed, not broken.
   */
  private volatile boolean stopped;

  private final boolean bestEffort;
  private final boolean ownedWorkspace;
  private volatile @Nullable Path workspace;
  private volatile @Nullable SandboxCgroup cgroup;
  private final int outputLimit;
  private final int jvmUid;
  private final @Nullable Path rootfs;
  private final boolean prepare;
  private final AtomicLong prepareCounter = new AtomicLong();
  private final Object prepLock = new Object();
  private @Nullable Launch prepared; // guarded by prepLock
  private @Nullable Thread preparing; // guarded by prepLock
  private boolean closed; // guarded by prepLock

  ProcessBackend(
      String sandboxId,
      SandboxConfig config,
      Launcher launcher,
      HostSupport host,
      Plan plan,
      List<String> notes,
      @Nullable Path rootfs) {
    this.sandboxId = sandboxId;
    this.rootfs = rootfs;
    this.policy = config.policy();
    this.launcher = launcher;
    this.plan = plan;
    this.notes = List.copyOf(notes);
    this.bestEffort = policy.bestEffort();
    this.ownedWorkspace = config.workdir() == null;
    this.outputLimit = config.outputLimit();
    this.jvmUid = host.euid();
    this.prepare = !"false".equals(System.getProperty(PREPARE_PROPERTY));
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

  /** Who owns run directories: the sandbox's uid when it is not ours (root host), else us. */
  private int runDirUid() {
    return uid == jvmUid ? -1 : uid;
  }

  private int runDirGid() {
    return uid == jvmUid ? -1 : gid;
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
    prepareInBackground();
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    Path ws = workspace;
    if (ws == null) {
      throw new KavachException(Reason.INVALID_STATE, "sandbox " + sandboxId + " is not started");
    }
    Launch prepared = spec.egress() == null ? takePrepared() : null;
    if (prepared != null) {
      prepareInBackground();
      return runPrepared(prepared, spec);
    }
    return runCold(spec, ws);
  }

  /** A launch started for this exec: the cgroup join and the spawn are on its critical path. */
  private ExecOutcome runCold(ExecSpec spec, Path ws) {
    SandboxCgroup cg = cgroup;
    ExecCgroup group = cg == null ? null : cg.newExec(spec.execId());
    try (RunDir run = RunDir.create(spec.execId(), runDirUid(), runDirGid())) {
      LaunchSpec.Builder launch = launchSpec(run, ws, spec.egress());
      launch.envFile(run.write("env", LaunchSpec.envFile(spec.env())));
      if (!spec.secretFiles().isEmpty()) {
        byte[] secrets = SecretFile.encode(spec.secretFiles());
        try {
          launch.secretsFile(run.write("secrets", secrets));
        } finally {
          Arrays.fill(secrets, (byte) 0);
        }
      }
      if (group != null) {
        launch.cgroupProcs(group.procsFiles());
      }
      Exec.Running r =
          Exec.start(
              Exec.command(launch.command(spec.argv()).build().argv())
                  .env(Map.of())
                  .cwd(Path.of("/"))
                  .stdin(spec.stdin())
                  .timeout(spec.timeout())
                  .outputLimit(spec.outputLimit())
                  .onTimeout(p -> kill(p, group))
                  .build());
      return finish(r, run, cg, group, spec.egress());
    } finally {
      if (group != null) {
        group.destroy();
      }
    }
  }

  /** A prepared launch: only the run files and the command are left to hand over. */
  private ExecOutcome runPrepared(Launch l, ExecSpec spec) {
    try (RunDir run = l.run()) {
      run.write("env", LaunchSpec.envFile(spec.env()));
      byte[] secrets = SecretFile.encode(spec.secretFiles());
      try {
        run.write("secrets", secrets);
      } finally {
        Arrays.fill(secrets, (byte) 0);
      }
      l.running().go(LaunchSpec.commandHeader(spec.argv()), spec.stdin(), spec.timeout());
      return finish(l.running(), run, cgroup, l.group(), null);
    } finally {
      if (l.group() != null) {
        l.group().destroy();
      }
    }
  }

  private ExecOutcome finish(
      Exec.Running r,
      RunDir run,
      @Nullable SandboxCgroup cg,
      @Nullable ExecCgroup group,
      @Nullable EgressEndpoint egress) {
    running.add(r);
    Exec.Result res;
    try {
      res = r.await();
    } finally {
      running.remove(r);
    }
    return outcome(res, LaunchReport.parse(run.read("status")), cg, group, egress);
  }

  /**
   * One launch spawned ahead of its exec: the launcher has joined its exec cgroup (which waits for
   * an RCU grace period, milliseconds on a loaded host) and waits for the command on stdin.
   */
  private record Launch(Exec.Running running, RunDir run, @Nullable ExecCgroup group) {
    void discard() {
      Exec.killTree(running.process());
      try {
        running.process().waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        if (group != null) {
          group.destroy();
        }
      } finally {
        run.close();
      }
    }
  }

  /** The prepared launch, if one is ready and alive. */
  private @Nullable Launch takePrepared() {
    Launch l;
    synchronized (prepLock) {
      l = prepared;
      prepared = null;
    }
    if (l != null && !l.running().process().isAlive()) {
      l.discard(); // it failed while preparing; the cold path will report why
      return null;
    }
    return l;
  }

  /**
   * Prepares the next launch on its own thread, so the spawn and the cgroup join happen between
   * execs rather than in one. At most one launch is prepared and one preparation runs at a time.
   */
  private void prepareInBackground() {
    if (!prepare || plan.egress()) {
      return;
    }
    synchronized (prepLock) {
      if (closed || prepared != null || preparing != null) {
        return;
      }
      Thread t = new Thread(this::prepareOne, "kavach-prepare-" + sandboxId);
      t.setDaemon(true);
      preparing = t;
      t.start();
    }
  }

  private void prepareOne() {
    Launch l = null;
    try {
      l = prepareLaunch();
    } catch (KavachException | IllegalStateException e) {
      // The next exec runs cold and reports whatever is wrong.
    } finally {
      boolean keep;
      synchronized (prepLock) {
        keep = l != null && !closed && prepared == null;
        if (keep) {
          prepared = l;
        }
      }
      try {
        if (l != null && !keep) {
          l.discard();
        }
      } finally {
        // Only now: closePrepared waits for this, so nothing of the launch outlives destroy.
        synchronized (prepLock) {
          preparing = null;
          prepLock.notifyAll();
        }
      }
    }
  }

  private Launch prepareLaunch() {
    Path ws = workspace;
    SandboxCgroup cg = cgroup;
    if (ws == null) {
      throw new IllegalStateException("not started");
    }
    String id = sandboxId + "-p" + prepareCounter.incrementAndGet();
    ExecCgroup group = cg == null ? null : cg.newExec(id);
    RunDir run = null;
    try {
      run = RunDir.create(id, runDirUid(), runDirGid());
      LaunchSpec.Builder b =
          launchSpec(run, ws, null)
              .envFile(run.path().resolve("env"))
              .secretsFile(run.path().resolve("secrets"))
              .waitForCommand();
      if (group != null) {
        b.cgroupProcs(group.procsFiles());
      }
      Exec.Running r =
          Exec.prepare(
              Exec.command(b.build().argv())
                  .env(Map.of())
                  .cwd(Path.of("/"))
                  .outputLimit(outputLimit)
                  .onTimeout(p -> kill(p, group))
                  .build());
      return new Launch(r, run, group);
    } catch (RuntimeException e) {
      if (group != null) {
        group.destroy();
      }
      if (run != null) {
        run.close();
      }
      throw e;
    }
  }

  /** Stops preparing and discards the prepared launch; waits for a preparation in flight. */
  private void closePrepared() {
    Launch l;
    synchronized (prepLock) {
      closed = true;
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (preparing != null && System.nanoTime() < deadline) {
        try {
          prepLock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      l = prepared;
      prepared = null;
    }
    if (l != null) {
      l.discard();
    }
  }

  /** Everything of a launch that is the same for every exec of this sandbox. */
  private LaunchSpec.Builder launchSpec(RunDir run, Path ws, @Nullable EgressEndpoint egress) {
    LaunchSpec.Builder b =
        LaunchSpec.builder(launcher.path())
            .status(run.write("status", new byte[0]))
            .parentPid(ProcessHandle.current().pid())
            .ids(uid, gid)
            .shareNetwork(plan.shareNetwork() && egress == null)
            .hostname("kavach")
            .workspace(ws)
            .tmpSize(tmpSize())
            .nofile(NOFILE);
    Long fsizeMb = policy.maxFileSizeMb();
    if (fsizeMb != null) {
      b.fsize(fsizeMb << 20);
    }
    if (rootfs != null) {
      b.rootfs(rootfs);
    } else {
      b.system(LaunchSpec.SYSTEM_DIRS);
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
    return b;
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
    if (res.timedOut() || res.killed() || (stopped && report.exitCode().isEmpty())) {
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
        .fileSizeLimitBytes(r.fileSizeLimit())
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
    stopped = true;
    closePrepared();
    running.forEach(Exec.Running::kill);
    SandboxCgroup cg = cgroup;
    if (cg != null) {
      cg.kill();
    }
  }

  @Override
  public void destroy() {
    closePrepared();
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
