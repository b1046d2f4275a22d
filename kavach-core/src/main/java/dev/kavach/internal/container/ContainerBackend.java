package dev.kavach.internal.container;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.backend.Backend;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.Health;
import dev.kavach.backend.SecretFile;
import dev.kavach.internal.exec.Exec;
import dev.kavach.internal.host.HostProbe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A sandbox as one long-running container: {@link #start} creates it (first process {@code
 * kavach-agent-oci init}) and confirms from inside what it enforces; each {@link #exec} runs {@code
 * kavach-agent-oci exec} through the runtime's exec; {@link #pause}, {@link #resume} and {@link
 * #stop} use the runtime's own commands; {@link #destroy} deletes the container and every host file
 * of it.
 *
 * <p>How an exec ends is read from the agent's status file, not from the runtime's exit status
 * (which reports a signal death and an exit with the same number as 128+N). A timeout or a stop
 * sends SIGTERM to the exec's agent, which kills the exec's whole process tree; only if the
 * runtime's exec client has not returned after {@link #AGENT_GRACE} is the client killed too.
 */
public final class ContainerBackend implements Backend {
  /** How long a killed exec's agent gets to kill its tree before the runtime client is killed. */
  static final Duration AGENT_GRACE = Duration.ofSeconds(3);

  /** The limit on the probe that confirms the container's confinement at start. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(60);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String backendName;
  private final ContainerPlan plan;
  private final ContainerDriver driver;
  private final boolean bestEffort;
  private final Map<String, Exec.Running> running = new ConcurrentHashMap<>();

  private volatile @Nullable ContainerLayout layout;
  private volatile @Nullable WorkspaceOwner owner;
  private volatile @Nullable Enforcement enforcement;
  private volatile @Nullable Limits limits;
  private volatile long firstPid = -1;

  /**
   * A backend for one sandbox.
   *
   * @param backendName the name in the enforcement report
   * @param plan what the container must look like
   * @param driver the runtime's commands
   * @param bestEffort whether requested controls that cannot be confirmed are noted rather than
   *     fatal
   */
  public ContainerBackend(
      String backendName, ContainerPlan plan, ContainerDriver driver, boolean bestEffort) {
    this.backendName = backendName;
    this.plan = plan;
    this.driver = driver;
    this.bestEffort = bestEffort;
  }

  /**
   * What every container backend (oci, gvisor, sy-agnos) enforces: each is confirmed inside the
   * container at start. Secrets by file go to a tmpfs the plan mounts at the file's directory (see
   * {@link ContainerPlan#secretDirs}); the agent writes them for each exec.
   */
  public static Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.RUNS_COMMANDS,
        Capability.NETWORK_ISOLATION,
        Capability.FILESYSTEM_RULES,
        Capability.READ_ONLY_ROOT,
        Capability.SECCOMP,
        Capability.MEMORY_LIMIT,
        Capability.CPU_LIMIT,
        Capability.PIDS_LIMIT,
        Capability.FILE_SIZE_LIMIT,
        Capability.PAUSE,
        Capability.SECRET_ENV,
        Capability.SECRET_FILE,
        Capability.SECRET_STDIN);
  }

  @Override
  public void start(Path workspace) {
    ContainerLayout l = ContainerLayout.of(plan.sandboxId(), workspace);
    l.create(plan.uid(), plan.gid());
    layout = l;
    owner = WorkspaceOwner.grant(workspace, plan.uid(), plan.gid());
    firstPid = driver.create(l);
    Limits lim = Limits.read(firstPid, HostProbe.system().cgroups(), HostProbe::read);
    limits = lim;
    Ran probe =
        run(
            List.of(ContainerPlan.AGENT, "probe"),
            Map.of("PATH", "/usr/bin:/bin"),
            List.of(),
            new byte[0],
            PROBE_TIMEOUT,
            64 * 1024);
    if (!probe.status().finished()
        || probe.status().exitCode().orElse(-1) != 0
        || probe.result().timedOut()) {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          backendName
              + ": the probe inside the container failed (runtime exit "
              + probe.result().exitValue()
              + "): "
              + (probe.result().stderrText() + " " + describe(probe.status())).trim());
    }
    InsideFacts seen = InsideFacts.parse(probe.result().stdoutText());
    driver.verify(seen);
    List<String> notes = new ArrayList<>(driver.notes());
    enforcement =
        Confirmation.confirm(
            backendName,
            plan,
            seen,
            new Confirmation.Observed(lim, driver.namespaces(), probe.status(), notes),
            bestEffort);
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    Enforcement e = enforcement;
    if (e == null) {
      throw new KavachException(Reason.INVALID_STATE, backendName + ": container not started");
    }
    long oomBefore = oomKills();
    Ran ran =
        run(
            spec.argv(),
            spec.env(),
            spec.secretFiles(),
            spec.stdin(),
            spec.timeout(),
            spec.outputLimit());
    Exec.Result r = ran.result();
    AgentStatus st = ran.status();
    byte[] stderr = r.stderr().bytes();
    boolean stderrTruncated = r.stderr().truncated();
    int exit;
    OptionalInt signal = OptionalInt.empty();
    if (st.execFailed()) {
      exit = st.errorErrno() == 2 ? 127 : 126;
      stderr = concat(stderr, ("kavach: " + st.errorMessage() + "\n").getBytes(UTF8));
    } else if (st.errorStep() != null) {
      throw new KavachException(
          Reason.LAUNCH_FAILED, backendName + ": kavach-agent-oci failed: " + describe(st));
    } else if (st.signal().isPresent()) {
      signal = st.signal();
      exit = 128 + signal.getAsInt();
    } else if (st.exitCode().isPresent()) {
      exit = st.exitCode().getAsInt();
    } else if (r.timedOut() || r.killed()) {
      // The runtime client was killed before the agent reported: the command was killed with it.
      signal = OptionalInt.of(9);
      exit = 137;
    } else if (st.pid() > 0 && !driver.running()) {
      // The container died under the exec (gVisor's sandbox dies when it reaches its memory or
      // pids limit; a stop kills it): the command was killed with it.
      signal = OptionalInt.of(9);
      exit = 137;
    } else if (st.pid() > 0 && r.exitValue() > 128 && r.exitValue() < 128 + 65) {
      // The agent itself died by a signal (the memory limit's OOM killer, or a command that could
      // signal it); the runtime passes that on as 128+N. What the command left is swept.
      signal = OptionalInt.of(r.exitValue() - 128);
      exit = r.exitValue();
      sweep();
    } else {
      String why = driver.running() ? "" : " (the container is no longer running)";
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          backendName
              + ": "
              + driver.runtime()
              + " exec failed with exit "
              + r.exitValue()
              + why
              + ": "
              + r.stderrText().trim());
    }
    boolean oom = signal.orElse(0) == 9 && oomKills() > oomBefore;
    return new ExecOutcome(
        exit,
        signal,
        r.timedOut(),
        oom,
        r.stdout().bytes(),
        stderr,
        r.stdout().truncated(),
        stderrTruncated,
        r.duration(),
        e,
        null);
  }

  /** One agent run: the runtime client's result and the agent's status. */
  private record Ran(Exec.Result result, AgentStatus status) {}

  private Ran run(
      List<String> argv,
      Map<String, String> env,
      List<SecretFile> secretFiles,
      byte[] stdin,
      Duration timeout,
      int outputLimit) {
    ContainerLayout l = layout;
    if (l == null) {
      throw new KavachException(Reason.INVALID_STATE, backendName + ": container not started");
    }
    String token = token();
    Path envFile = l.run().resolve(token + ".env");
    Path bpfFile = l.run().resolve(token + ".bpf");
    Path statusFile = l.run().resolve(token + ".status");
    Path filesFile = l.run().resolve(token + ".files");
    Path stdinFile = l.run().resolve(token + ".stdin");
    byte[] pipedStdin = stdin;
    try {
      if (driver.stdinThroughFile()) {
        // Stdin may carry secrets: a 0400 file on tmpfs, unlinked by the agent when it opens it.
        writeForAgent(stdinFile, stdin);
        pipedStdin = new byte[0];
      }
      writeEnv(envFile, env);
      if (!secretFiles.isEmpty()) {
        byte[] files = SecretFile.encode(secretFiles);
        try {
          writeForAgent(filesFile, files);
        } finally {
          Arrays.fill(files, (byte) 0);
        }
      }
      ContainerSeccomp seccomp = plan.seccomp();
      if (seccomp != null && driver.agentInstallsSeccomp()) {
        writeForAgent(bpfFile, seccomp.bpf());
      }
      List<String> args = new ArrayList<>(List.of(ContainerPlan.AGENT, "exec", "--"));
      args.addAll(argv);
      List<String> command = driver.execCommand(l, token, args);
      Exec.Running r =
          Exec.start(
              Exec.command(command)
                  .env(RuntimeCommands.environment())
                  .stdin(pipedStdin)
                  .timeout(timeout)
                  .outputLimit(outputLimit)
                  .onTimeout(p -> stopExec(statusFile, p))
                  .build());
      running.put(token, r);
      Exec.Result result;
      try {
        result = r.await();
      } finally {
        running.remove(token);
      }
      return new Ran(result, AgentStatus.parse(readQuietly(statusFile)));
    } finally {
      deleteQuietly(envFile);
      deleteQuietly(filesFile);
      deleteQuietly(stdinFile);
      deleteQuietly(bpfFile);
      deleteQuietly(statusFile);
      deleteQuietly(l.exec().resolve(token + ".json"));
    }
  }

  /**
   * Kills the orphans an exec left when its agent could not (it died): {@code kavach-agent-oci
   * sweep} kills every process re-parented to the container's init. Best effort; the container's
   * stop kills them in any case.
   */
  private void sweep() {
    ContainerLayout l = layout;
    if (l == null) {
      return;
    }
    String token = token();
    try {
      RuntimeCommands.run(driver.execCommand(l, token, List.of(ContainerPlan.AGENT, "sweep")));
    } catch (RuntimeException e) {
      // The container may be gone (an OOM kill of gVisor's sandbox): nothing left to sweep.
    } finally {
      deleteQuietly(l.exec().resolve(token + ".json"));
    }
  }

  /**
   * Stops one exec: SIGTERM to its agent (which kills the exec's tree and reports), then, if the
   * runtime client still runs after the grace period, the client's own tree.
   */
  private void stopExec(Path statusFile, Process client) {
    long deadline = System.nanoTime() + AGENT_GRACE.toNanos();
    boolean signalled = false;
    while (client.isAlive() && System.nanoTime() < deadline) {
      if (!signalled) {
        int pid = AgentStatus.parse(readQuietly(statusFile)).pid();
        if (pid > 0) {
          driver.signalAgent(pid);
          signalled = true;
        }
      }
      sleep(Duration.ofMillis(10));
    }
    if (client.isAlive()) {
      Exec.killTree(client);
    }
    if (!signalled) {
      // The agent may have started just as the client was killed; it must not outlive it.
      int pid = AgentStatus.parse(readQuietly(statusFile)).pid();
      if (pid > 0) {
        driver.signalAgent(pid);
      }
    }
  }

  @Override
  public void pause() {
    driver.pause();
  }

  @Override
  public void resume() {
    driver.resume();
  }

  @Override
  public void stop() {
    if (layout == null) {
      return;
    }
    driver.killAll();
    List<Exec.Running> execs = new ArrayList<>(running.values());
    for (Exec.Running r : execs) {
      r.kill();
    }
  }

  @Override
  public void destroy() {
    List<Exception> errors = new ArrayList<>();
    try {
      for (Exec.Running r : new ArrayList<>(running.values())) {
        Exec.killTree(r.process());
      }
      driver.delete();
    } catch (RuntimeException e) {
      errors.add(e);
    }
    ContainerLayout l = layout;
    if (l != null) {
      try {
        l.delete();
      } catch (IOException e) {
        errors.add(e);
      }
    }
    WorkspaceOwner o = owner;
    if (o != null) {
      try {
        o.restore();
      } catch (IOException e) {
        errors.add(e);
      }
    }
    layout = null;
    owner = null;
    if (!errors.isEmpty()) {
      Exception first = errors.get(0);
      KavachException k =
          first instanceof KavachException ke
              ? ke
              : new KavachException(
                  Reason.IO, backendName + ": cleanup failed: " + first.getMessage(), first);
      errors.subList(1, errors.size()).forEach(k::addSuppressed);
      throw k;
    }
  }

  @Override
  public Health health() {
    if (layout == null) {
      return new Health(false, "not started");
    }
    return driver.running()
        ? new Health(true, driver.runtime() + " container " + plan.containerId() + " running")
        : new Health(false, driver.runtime() + " container " + plan.containerId() + " stopped");
  }

  private long oomKills() {
    Limits l = limits;
    if (l == null || l.memoryControl().isEmpty()) {
      return 0;
    }
    return Limits.parseOomKills(HostProbe.read(l.memoryControl().get()));
  }

  /**
   * Writes the command's environment for the agent: NUL-separated {@code K=V}, mode 0400, owned by
   * the container's uid. Created root-only and handed over only once complete.
   */
  private void writeEnv(Path file, Map<String, String> env) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : env.entrySet()) {
      out.writeBytes((e.getKey() + "=" + e.getValue()).getBytes(UTF8));
      out.write(0);
    }
    byte[] bytes = out.toByteArray();
    try {
      writeForAgent(file, bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** A file only the container's uid can read, created root-only and handed over complete. */
  private void writeForAgent(Path file, byte[] bytes) {
    try (SeekableByteChannel ch =
        Files.newByteChannel(
            file,
            java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      Files.setAttribute(file, "unix:uid", plan.uid());
      Files.setAttribute(file, "unix:gid", plan.gid());
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot write " + file + " for the agent: " + e, e);
    }
  }

  private static String describe(AgentStatus s) {
    if (s.errorStep() == null) {
      return "";
    }
    return "step " + s.errorStep() + ": " + s.errorMessage();
  }

  private static String token() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  private static String readQuietly(Path p) {
    try {
      return new String(Files.readAllBytes(p), UTF8);
    } catch (IOException e) {
      return "";
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // The whole directory goes at destroy.
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;
}
