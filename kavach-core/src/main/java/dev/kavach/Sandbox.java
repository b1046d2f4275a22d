package dev.kavach;

import dev.kavach.KavachException.Reason;
import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditSink;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Backends;
import dev.kavach.backend.Capability;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.SecretFile;
import dev.kavach.credential.CredentialSource;
import dev.kavach.credential.Injection;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressDecision;
import dev.kavach.internal.fs.Trees;
import dev.kavach.scanning.ExternalizationGate;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.Finding;
import dev.kavach.scanning.ScanReport;
import dev.kavach.scanning.SecretsScanner;
import dev.kavach.scoring.Scoring;
import dev.kavach.scoring.StrengthScore;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jspecify.annotations.Nullable;

/**
 * An isolated place to run untrusted commands. Create it from a {@link SandboxConfig}, start it,
 * run commands, destroy it. Everything the sandbox allocated on the host is released by {@link
 * #destroy()} (or {@link #close()}), from any state.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder().policy(SandboxPolicy.strict()).build();
 * try (Sandbox sandbox = Sandbox.create(config)) {
 *   sandbox.start();
 *   ExecResult r = sandbox.exec(List.of("python3", "-c", "print(6 * 7)"));
 *   System.out.println(r.stdoutText() + " at strength " + r.score());
 * }
 * }</pre>
 *
 * <p>{@code exec} may be called from several threads at once while the sandbox is running;
 * lifecycle transitions are serialised. {@code stop} and {@code destroy} kill running commands and
 * wait for their execs to return.
 */
public final class Sandbox implements AutoCloseable {
  /** The {@code PATH} every command starts with. */
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** Where the workspace appears inside the sandbox, and the commands' working directory. */
  public static final String WORKSPACE = "/workspace";

  private static final Duration DRAIN_WAIT = Duration.ofSeconds(30);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String id;
  private final SandboxConfig config;
  private final BackendProvider provider;
  private final Backend backend;
  private final @Nullable SandboxEgress egress;
  private final AtomicLong execCounter = new AtomicLong();
  private final AtomicLong copyCounter = new AtomicLong();
  private final Object lock = new Object();

  /**
   * Execs share it, {@link #copyOut} takes it alone: no sandboxed process runs while a file is read
   * out of the workspace, so none can swap a path component or the file under the reader.
   */
  private final ReadWriteLock workspaceAccess = new ReentrantReadWriteLock();

  // Guarded by lock.
  private SandboxState state = SandboxState.CREATED;
  private int inFlight;
  private @Nullable Path workspace;
  private @Nullable Enforcement lastEnforcement;

  private Sandbox(
      String id,
      SandboxConfig config,
      BackendProvider provider,
      Backend backend,
      @Nullable SandboxEgress egress) {
    this.id = id;
    this.config = config;
    this.provider = provider;
    this.backend = backend;
    this.egress = egress;
  }

  /**
   * Selects the configured backend among those registered with {@link java.util.ServiceLoader},
   * checks that it is available and can enforce the policy, and prepares it. Nothing is allocated
   * on the host until {@link #start()}.
   *
   * @throws KavachException if the backend is unknown or unavailable ({@link
   *     Reason#BACKEND_UNAVAILABLE}), cannot enforce the policy ({@link
   *     Reason#ENFORCEMENT_FAILED}), or cannot inject a configured secret ({@link
   *     Reason#CREDENTIAL})
   */
  public static Sandbox create(SandboxConfig config) {
    return create(config, Backends.discover());
  }

  /** As {@link #create(SandboxConfig)}, choosing among the given backends. */
  public static Sandbox create(SandboxConfig config, Backends backends) {
    BackendProvider provider = backends.select(config.backend(), config.policy());
    checkSecretMethods(provider, config);
    String id = "kv-" + HexFormat.of().formatHex(randomBytes(6));
    SandboxEgress egress = SandboxEgress.plan(id, config, provider, RANDOM);
    checkSecretsRegistered(config);
    Backend backend = provider.open(id, config);
    Sandbox sandbox = new Sandbox(id, config, provider, backend, egress);
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("backend", provider.name());
    details.put("declared_score", Scoring.declared(provider, config.policy()).value());
    details.put("best_effort", config.policy().bestEffort());
    sandbox.audit(AuditEvent.Type.CREATED, details);
    return sandbox;
  }

  private static void checkSecretMethods(BackendProvider provider, SandboxConfig config) {
    if (!provider.capabilities().contains(Capability.RUNS_COMMANDS)) {
      return;
    }
    for (SecretRef ref : config.secrets()) {
      Capability need = secretCapability(ref.injection());
      if (!provider.capabilities().contains(need)) {
        throw new KavachException(
            Reason.CREDENTIAL,
            "backend "
                + provider.name()
                + " cannot inject secret "
                + ref.name()
                + ": no support for "
                + Backends.describe(need));
      }
    }
  }

  /**
   * Every configured secret must resolve now: a misspelt name fails before anything is allocated or
   * run (the Rust crate skipped unknown names silently). Values are wiped at once.
   */
  private static void checkSecretsRegistered(SandboxConfig config) {
    CredentialSource source = config.credentials();
    if (source == null) {
      return; // SandboxConfig.build() refuses secrets without a source
    }
    for (SecretRef ref : config.secrets()) {
      Optional<byte[]> value = source.resolve(ref.name());
      if (value.isEmpty()) {
        throw new KavachException(
            Reason.CREDENTIAL,
            "secret " + ref.name() + " is not registered in the credential source");
      }
      Arrays.fill(value.get(), (byte) 0);
    }
  }

  private static Capability secretCapability(Injection injection) {
    if (injection instanceof Injection.Env) {
      return Capability.SECRET_ENV;
    }
    if (injection instanceof Injection.File) {
      return Capability.SECRET_FILE;
    }
    if (injection instanceof Injection.Proxy) {
      return Capability.NETWORK_HOST_RULES;
    }
    return Capability.SECRET_STDIN;
  }

  /** The sandbox's id, {@code kv-} followed by 12 hex digits. */
  public String id() {
    return id;
  }

  /** The configuration it was created with. */
  public SandboxConfig config() {
    return config;
  }

  /** The backend's name. */
  public String backendName() {
    return provider.name();
  }

  /** What the backend can enforce. */
  public java.util.Set<Capability> capabilities() {
    return provider.capabilities();
  }

  /** The current lifecycle state. */
  public SandboxState state() {
    synchronized (lock) {
      return state;
    }
  }

  /** What the policy would score on this backend if every requested control were enforced. */
  public StrengthScore declaredScore() {
    return Scoring.declared(provider, config.policy());
  }

  /** What was enforced on the most recent exec, if any exec has run. */
  public Optional<Enforcement> lastEnforcement() {
    synchronized (lock) {
      return Optional.ofNullable(lastEnforcement);
    }
  }

  /** The host directory mounted at {@code /workspace}, once started. */
  public Optional<Path> workspace() {
    synchronized (lock) {
      return Optional.ofNullable(workspace);
    }
  }

  /**
   * Allocates the sandbox's host resources: {@code CREATED -> RUNNING}.
   *
   * @throws KavachException with {@link Reason#INVALID_TRANSITION} from any other state, or the
   *     backend's error if setup fails (everything allocated so far is released and the state stays
   *     {@code CREATED})
   */
  public void start() {
    synchronized (lock) {
      checkTransition(SandboxState.RUNNING);
      Path ws = null;
      boolean owned = config.workdir() == null;
      try {
        ws = owned ? Trees.createPrivateTempDirectory("kavach-ws-") : config.workdir();
        if (egress != null) {
          // Before the backend: its first exec must find the proxy listening.
          egress.start(this::auditEgress);
        }
        backend.start(ws);
      } catch (IOException e) {
        releaseAfterFailedStart(ws, owned);
        throw fail(new KavachException(Reason.IO, "cannot create workspace: " + e, e));
      } catch (RuntimeException e) {
        releaseAfterFailedStart(ws, owned);
        throw fail(e);
      }
      workspace = ws;
      state = SandboxState.RUNNING;
    }
    audit(AuditEvent.Type.STARTED, Map.of("workspace_owned", config.workdir() == null));
  }

  private void releaseAfterFailedStart(@Nullable Path ws, boolean owned) {
    try {
      backend.destroy();
      if (egress != null) {
        egress.close();
      }
    } finally {
      if (owned && ws != null) {
        deleteQuietly(ws);
      }
    }
  }

  /** Runs an argv with the sandbox's timeout and no standard input. */
  public ExecResult exec(List<String> argv) {
    return exec(ExecRequest.of(argv));
  }

  /** Runs {@code /bin/sh -c script}: the only way kavach interprets a string as shell. */
  public ExecResult execShell(String script) {
    return exec(ExecRequest.of("/bin/sh", "-c", script));
  }

  /**
   * Runs one command in the running sandbox.
   *
   * @return how it ended; a non-zero exit, a signal or a timeout is a result, not an exception
   * @throws KavachException with {@link Reason#INVALID_STATE} unless running, or the backend's
   *     error if the command could not be started under the requested isolation
   */
  public ExecResult exec(ExecRequest request) {
    synchronized (lock) {
      if (state != SandboxState.RUNNING) {
        throw new KavachException(
            Reason.INVALID_STATE, "sandbox " + id + " is " + state + ", not running");
      }
      inFlight++;
    }
    String execId = id + "-" + execCounter.incrementAndGet();
    Duration timeout = request.timeout() != null ? request.timeout() : config.timeout();
    List<byte[]> toWipe = new ArrayList<>();
    workspaceAccess.readLock().lock();
    try {
      Map<String, String> env = baseEnvironment();
      env.putAll(config.env());
      env.putAll(request.env());
      List<SecretFile> files = new ArrayList<>();
      Map<String, byte[]> resolved = new LinkedHashMap<>();
      byte[] stdin = injectSecrets(env, files, request.stdin(), toWipe, resolved);
      if (egress != null) {
        egress.addEnvironment(env);
        files.addAll(egress.files());
      }
      Map<String, Object> start = new LinkedHashMap<>();
      start.put("exec_id", execId);
      start.put("program", request.argv().get(0));
      start.put("argc", request.argv().size());
      start.put("timeout_ms", timeout.toMillis());
      start.put("secrets", secretNames());
      audit(AuditEvent.Type.EXEC_START, start);
      ExecOutcome outcome =
          backend.exec(
              new ExecSpec(
                  execId,
                  request.argv(),
                  env,
                  stdin,
                  timeout,
                  config.outputLimit(),
                  files,
                  egress == null ? null : egress.endpoint()));
      StrengthScore score = Scoring.score(provider, outcome.enforcement());
      synchronized (lock) {
        lastEnforcement = outcome.enforcement();
      }
      byte[] stdout = outcome.stdout();
      byte[] stderr = outcome.stderr();
      Optional<ScanReport> scan = Optional.empty();
      ExternalizationPolicy gatePolicy = config.externalization();
      if (gatePolicy != null && gatePolicy.enabled()) {
        Map<String, byte[]> parts = new LinkedHashMap<>();
        parts.put("stdout", stdout);
        parts.put("stderr", stderr);
        ExternalizationGate.Decision d = review(gatePolicy, parts, execId, resolved, toWipe);
        stdout = d.released().get("stdout");
        stderr = d.released().get("stderr");
        scan = Optional.of(d.report());
        // What the gate withheld or redacted must not linger in this JVM either.
        if (stdout != outcome.stdout()) {
          toWipe.add(outcome.stdout());
        }
        if (stderr != outcome.stderr()) {
          toWipe.add(outcome.stderr());
        }
      }
      ExecResult result =
          new ExecResult(
              outcome.exitCode(),
              outcome.signal(),
              outcome.timedOut(),
              outcome.oomKilled(),
              stdout,
              stderr,
              outcome.stdoutTruncated(),
              outcome.stderrTruncated(),
              outcome.duration(),
              outcome.enforcement(),
              score,
              scan,
              Optional.ofNullable(outcome.usage()));
      Map<String, Object> end = new LinkedHashMap<>();
      end.put("exec_id", execId);
      end.put("exit_code", result.exitCode());
      result.signal().ifPresent(s -> end.put("signal", s));
      end.put("timed_out", result.timedOut());
      end.put("oom_killed", result.oomKilled());
      end.put("duration_ms", result.duration().toMillis());
      end.put("score", score.value());
      end.put("stdout_bytes", outcome.stdout().length);
      end.put("stderr_bytes", outcome.stderr().length);
      audit(AuditEvent.Type.EXEC_END, end);
      scan.ifPresent(
          r -> auditGate(execId, null, r, outcome.stdout().length + outcome.stderr().length));
      return result;
    } catch (RuntimeException e) {
      throw fail(e);
    } finally {
      workspaceAccess.readLock().unlock();
      for (byte[] b : toWipe) {
        Arrays.fill(b, (byte) 0);
      }
      synchronized (lock) {
        inFlight--;
        lock.notifyAll();
      }
    }
  }

  private static Map<String, String> baseEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", DEFAULT_PATH);
    env.put("HOME", WORKSPACE);
    env.put("LANG", "C.UTF-8");
    env.put("TERM", "xterm");
    return env;
  }

  /**
   * Resolves the configured secrets into the environment, secret files and standard input.
   * Standard-input secrets come first, joined with newlines in declaration order (as in the Rust
   * crate), followed by a newline and the request's own input when there is any.
   */
  private byte[] injectSecrets(
      Map<String, String> env,
      List<SecretFile> files,
      byte[] requestStdin,
      List<byte[]> toWipe,
      Map<String, byte[]> resolved) {
    if (config.secrets().isEmpty()) {
      return requestStdin;
    }
    ByteArrayOutputStream stdinSecrets = new ByteArrayOutputStream();
    boolean anyStdin = false;
    for (SecretRef ref : config.secrets()) {
      if (ref.injection() instanceof Injection.Proxy p) {
        // The real value stays with the egress proxy; the command gets the placeholder.
        if (egress == null) {
          throw new KavachException(
              Reason.CREDENTIAL, "secret " + ref.name() + " needs the egress proxy, which is off");
        }
        env.put(p.variable(), egress.placeholder(ref.name()));
        continue;
      }
      byte[] value =
          config
              .credentials()
              .resolve(ref.name())
              .orElseThrow(
                  () ->
                      new KavachException(
                          Reason.CREDENTIAL, "secret " + ref.name() + " is not registered"));
      toWipe.add(value);
      resolved.put(ref.name(), value);
      Injection how = ref.injection();
      if (how instanceof Injection.Env envInjection) {
        String var = envInjection.variable();
        String text = new String(value, java.nio.charset.StandardCharsets.UTF_8);
        if (text.indexOf('\0') >= 0) {
          throw new KavachException(
              Reason.CREDENTIAL,
              "secret " + ref.name() + " contains NUL and cannot be an env value");
        }
        env.put(var, text);
      } else if (how instanceof Injection.File f) {
        files.add(new SecretFile(f.path(), f.mode(), value));
      } else if (how instanceof Injection.Stdin) {
        if (anyStdin) {
          stdinSecrets.write('\n');
        }
        stdinSecrets.writeBytes(value);
        anyStdin = true;
      } else {
        throw new IllegalStateException("unhandled injection " + how.getClass().getName());
      }
    }
    if (!anyStdin) {
      return requestStdin;
    }
    if (requestStdin.length > 0) {
      stdinSecrets.write('\n');
      stdinSecrets.writeBytes(requestStdin);
    }
    byte[] stdin = stdinSecrets.toByteArray();
    toWipe.add(stdin);
    return stdin;
  }

  /**
   * Runs the gate over output parts with a scanner that knows every secret this sandbox could leak:
   * those injected into this exec (already resolved) and every other name the credential source
   * lists, masked proxy secrets included (an allowed host may echo one back).
   */
  private ExternalizationGate.Decision review(
      ExternalizationPolicy policy,
      Map<String, byte[]> parts,
      String operationId,
      Map<String, byte[]> resolved,
      List<byte[]> toWipe) {
    CredentialSource source = config.credentials();
    Set<String> names = new LinkedHashSet<>();
    config.secrets().forEach(r -> names.add(r.name()));
    if (source != null) {
      names.addAll(source.names());
    }
    SecretsScanner.Builder b = SecretsScanner.builder();
    for (String name : names) {
      byte[] value = resolved.get(name);
      if (value == null && source != null) {
        Optional<byte[]> v = source.resolve(name);
        if (v.isEmpty()) {
          continue; // removed from the source since: there is no value to look for
        }
        value = v.get();
        toWipe.add(value);
      }
      if (value != null) {
        b.secret(name, value);
      }
    }
    try (SecretsScanner scanner = b.build()) {
      return new ExternalizationGate(policy, config.quarantine())
          .review(
              parts, scanner, new ExternalizationGate.Origin(id, config.agentId(), operationId));
    }
  }

  /** Records a gate decision: verdict, counts and categories, never evidence or content. */
  private void auditGate(
      String operationId, @Nullable String artifact, ScanReport report, long bytes) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put(artifact == null ? "exec_id" : "operation_id", operationId);
    if (artifact != null) {
      details.put("artifact", artifact);
    }
    details.put("verdict", report.verdict().toString());
    details.put("worst", report.worst().toString());
    details.put("findings", report.findings().size());
    Map<String, Integer> categories = new TreeMap<>();
    for (Finding f : report.findings()) {
      categories.merge(f.category(), 1, Integer::sum);
    }
    details.put("categories", categories);
    if (report.quarantineId() != null) {
      details.put("quarantine_id", report.quarantineId());
    }
    details.put("bytes", bytes);
    audit(AuditEvent.Type.GATE_DECISION, details);
  }

  /**
   * Returns a file of the workspace through the externalization gate, as an exec's output would be:
   * unchanged, redacted, or withheld (empty, with the verdict) when the gate says so. Without a
   * gate the file is returned as it is, up to 50 MiB.
   *
   * <p>The path is relative to the workspace and may not contain {@code ..}. It is opened one
   * component at a time relative to the directory before it, never following a symbolic link, so a
   * link the command planted (to a host file, or anywhere) is refused rather than read. While it
   * reads, no command of this sandbox runs: copyOut waits for running execs and holds new ones.
   *
   * <pre>{@code
   * sandbox.exec(List.of("sh", "-c", "make report > out/report.txt"));
   * Artifact report = sandbox.copyOut("out/report.txt");
   * if (report.scan().map(s -> s.verdict() != Verdict.BLOCK).orElse(true)) { ... }
   * }</pre>
   *
   * @throws KavachException with {@link Reason#POLICY_INVALID} for a path that is absolute or
   *     climbs out, {@link Reason#INVALID_STATE} before start or after destroy, {@link Reason#IO}
   *     if the file is missing, not a regular file, reached through a link, or unreadable
   */
  public Artifact copyOut(String pathInWorkspace) {
    List<String> components = workspacePath(pathInWorkspace);
    Path ws;
    synchronized (lock) {
      if (workspace == null || state == SandboxState.DESTROYED) {
        throw new KavachException(
            Reason.INVALID_STATE, "sandbox " + id + " is " + state + ": no workspace to copy from");
      }
      ws = workspace;
      inFlight++;
    }
    String operationId = id + "-copy-" + copyCounter.incrementAndGet();
    List<byte[]> toWipe = new ArrayList<>();
    workspaceAccess.writeLock().lock();
    try {
      ExternalizationPolicy policy = config.externalization();
      boolean gated = policy != null && policy.enabled();
      long cap =
          gated
              ? policy.maxArtifactSizeBytes()
              : ExternalizationPolicy.defaults().maxArtifactSizeBytes();
      WorkspaceFile file = readWorkspaceFile(ws, components, pathInWorkspace, cap);
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("operation_id", operationId);
      details.put("artifact", pathInWorkspace);
      details.put("bytes", file.size());
      audit(AuditEvent.Type.COPY_OUT, details);
      if (!gated) {
        if (file.content() == null) {
          throw new KavachException(
              Reason.IO,
              pathInWorkspace
                  + " is "
                  + file.size()
                  + " bytes, above the copy-out limit of "
                  + cap);
        }
        return new Artifact(pathInWorkspace, file.content(), Optional.empty());
      }
      ExternalizationGate.Decision d;
      if (file.content() == null) {
        d =
            new ExternalizationGate(policy, config.quarantine())
                .tooLarge(pathInWorkspace, file.size());
      } else {
        toWipe.add(file.content());
        d = review(policy, Map.of(pathInWorkspace, file.content()), operationId, Map.of(), toWipe);
      }
      byte[] released = d.released().get(pathInWorkspace);
      if (released == file.content()) {
        toWipe.remove(released); // released as is: it is the caller's now
      }
      auditGate(operationId, pathInWorkspace, d.report(), file.size());
      return new Artifact(pathInWorkspace, released, Optional.of(d.report()));
    } catch (RuntimeException e) {
      throw fail(e);
    } finally {
      workspaceAccess.writeLock().unlock();
      for (byte[] b : toWipe) {
        Arrays.fill(b, (byte) 0);
      }
      synchronized (lock) {
        inFlight--;
        lock.notifyAll();
      }
    }
  }

  /** The components of a workspace path: relative, no {@code ..}, no NUL; {@code .} dropped. */
  private static List<String> workspacePath(String path) {
    Objects.requireNonNull(path, "pathInWorkspace");
    List<String> out = new ArrayList<>();
    boolean bad = path.isEmpty() || path.startsWith("/") || path.indexOf('\0') >= 0;
    for (String c : path.split("/", -1)) {
      if (c.equals("..")) {
        bad = true;
      } else if (!c.isEmpty() && !c.equals(".")) {
        out.add(c);
      }
    }
    if (bad || out.isEmpty()) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          "workspace path (\""
              + path
              + "\") must be relative to "
              + WORKSPACE
              + " without .. (e.g. out/report.txt)");
    }
    return out;
  }

  /** A file's size and, unless above the cap, its content. */
  @SuppressWarnings("ArrayRecordComponent") // read once, handed on or wiped; never shared
  private record WorkspaceFile(long size, byte @Nullable [] content) {}

  private static WorkspaceFile readWorkspaceFile(
      Path ws, List<String> components, String shown, long cap) {
    List<Closeable> opened = new ArrayList<>();
    try (DirectoryStream<Path> root = Files.newDirectoryStream(ws)) {
      if (!(root instanceof SecureDirectoryStream<Path> dir)) {
        // Without openat there is no race-free way to refuse links: refuse the operation.
        throw new KavachException(
            Reason.IO, "this platform cannot open files without following links; copyOut refuses");
      }
      for (int i = 0; i < components.size() - 1; i++) {
        String c = components.get(i);
        BasicFileAttributes a = attributes(dir, c);
        if (a.isSymbolicLink()) {
          throw link(shown, c);
        }
        if (!a.isDirectory()) {
          throw new KavachException(Reason.IO, shown + ": " + c + " is not a directory");
        }
        try {
          dir = dir.newDirectoryStream(Path.of(c), LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
          // O_NOFOLLOW: it became a link after the check above.
          throw link(shown, c);
        }
        opened.add(dir);
      }
      String name = components.get(components.size() - 1);
      BasicFileAttributes a = attributes(dir, name);
      if (a.isSymbolicLink()) {
        throw link(shown, name);
      }
      if (!a.isRegularFile()) {
        // A FIFO would block the read forever; a device is never an artifact.
        throw new KavachException(Reason.IO, shown + " is not a regular file");
      }
      if (a.size() > cap) {
        return new WorkspaceFile(a.size(), null);
      }
      try (SeekableByteChannel ch =
          dir.newByteChannel(
              Path.of(name), Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
        // Read at most cap + 1 bytes: the file may have changed since it was measured.
        int limit = (int) Math.min(cap + 1, Integer.MAX_VALUE - 16);
        byte[] buf = new byte[(int) Math.min(limit, Math.max(a.size() + 1, 8192))];
        int n = 0;
        while (true) {
          if (n == buf.length) {
            if (n >= limit) {
              break;
            }
            byte[] bigger = Arrays.copyOf(buf, (int) Math.min(limit, 2L * buf.length));
            Arrays.fill(buf, (byte) 0);
            buf = bigger;
          }
          int r = ch.read(ByteBuffer.wrap(buf, n, buf.length - n));
          if (r < 0) {
            break;
          }
          n += r;
        }
        byte[] content = n > cap ? null : Arrays.copyOf(buf, n);
        Arrays.fill(buf, (byte) 0);
        return new WorkspaceFile(content == null ? Math.max(n, a.size()) : n, content);
      } catch (FileSystemException e) {
        if (e instanceof NoSuchFileException) {
          throw e;
        }
        throw link(shown, name);
      }
    } catch (NoSuchFileException e) {
      throw new KavachException(Reason.IO, "no file " + shown + " in the workspace", e);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot read " + shown + " from the workspace: " + e, e);
    } finally {
      for (int i = opened.size() - 1; i >= 0; i--) {
        try {
          opened.get(i).close();
        } catch (IOException e) {
          // Read-only directory handles: nothing is lost by a failed close.
        }
      }
    }
  }

  private static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, String name)
      throws IOException {
    return dir.getFileAttributeView(
            Path.of(name), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .readAttributes();
  }

  private static KavachException link(String shown, String component) {
    return new KavachException(
        Reason.IO, shown + ": " + component + " is a symbolic link; copyOut never follows links");
  }

  private List<String> secretNames() {
    List<String> names = new ArrayList<>();
    config.secrets().forEach(s -> names.add(s.name()));
    return names;
  }

  /**
   * Freezes every process of the sandbox: {@code RUNNING -> PAUSED}.
   *
   * @throws KavachException with {@link Reason#INVALID_TRANSITION} from any other state, or {@link
   *     Reason#BACKEND_UNAVAILABLE} if the backend cannot pause
   */
  public void pause() {
    synchronized (lock) {
      checkTransition(SandboxState.PAUSED);
      if (!provider.capabilities().contains(Capability.PAUSE)) {
        throw fail(
            new KavachException(
                Reason.BACKEND_UNAVAILABLE, "backend " + provider.name() + " cannot pause"));
      }
      try {
        backend.pause();
      } catch (RuntimeException e) {
        throw fail(e);
      }
      state = SandboxState.PAUSED;
    }
    audit(AuditEvent.Type.PAUSED, Map.of());
  }

  /** Thaws every process: {@code PAUSED -> RUNNING}. */
  public void resume() {
    synchronized (lock) {
      checkTransition(SandboxState.RUNNING);
      if (state != SandboxState.PAUSED) {
        throw invalidTransition(SandboxState.RUNNING);
      }
      try {
        backend.resume();
      } catch (RuntimeException e) {
        throw fail(e);
      }
      state = SandboxState.RUNNING;
    }
    audit(AuditEvent.Type.RESUMED, Map.of());
  }

  /**
   * Kills every process of the sandbox and refuses further execs: {@code RUNNING|PAUSED ->
   * STOPPED}. The workspace is kept until {@link #destroy()}.
   */
  public void stop() {
    synchronized (lock) {
      checkTransition(SandboxState.STOPPED);
      state = SandboxState.STOPPED;
    }
    try {
      backend.stop();
    } catch (RuntimeException e) {
      throw fail(e);
    }
    awaitExecs();
    audit(AuditEvent.Type.STOPPED, Map.of());
  }

  /**
   * Kills everything and releases every host resource, from any state but {@code DESTROYED}.
   *
   * @throws KavachException with {@link Reason#INVALID_TRANSITION} if already destroyed
   */
  public void destroy() {
    Path ws;
    synchronized (lock) {
      checkTransition(SandboxState.DESTROYED);
      state = SandboxState.DESTROYED;
      ws = workspace;
    }
    List<RuntimeException> errors = new ArrayList<>();
    try {
      backend.stop();
    } catch (RuntimeException e) {
      errors.add(e);
    }
    awaitExecs();
    try {
      backend.destroy();
    } catch (RuntimeException e) {
      errors.add(e);
    }
    if (egress != null) {
      try {
        egress.close();
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    if (ws != null && config.workdir() == null) {
      try {
        Trees.deleteRecursively(ws);
      } catch (IOException e) {
        errors.add(new KavachException(Reason.IO, "cannot remove workspace " + ws + ": " + e, e));
      }
    }
    audit(AuditEvent.Type.DESTROYED, Map.of("errors", errors.size()));
    if (!errors.isEmpty()) {
      RuntimeException first = errors.get(0);
      errors.subList(1, errors.size()).forEach(first::addSuppressed);
      throw fail(first);
    }
  }

  /** Destroys the sandbox unless it is already destroyed. */
  @Override
  public void close() {
    if (state() != SandboxState.DESTROYED) {
      destroy();
    }
  }

  private void awaitExecs() {
    long deadline = System.nanoTime() + DRAIN_WAIT.toNanos();
    synchronized (lock) {
      while (inFlight > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        try {
          lock.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void checkTransition(SandboxState target) {
    if (!state.canTransitionTo(target)) {
      throw invalidTransition(target);
    }
  }

  private KavachException invalidTransition(SandboxState target) {
    return new KavachException(
        Reason.INVALID_TRANSITION, "sandbox " + id + ": cannot go from " + state + " to " + target);
  }

  private RuntimeException fail(RuntimeException e) {
    Map<String, Object> details = new LinkedHashMap<>();
    if (e instanceof KavachException k) {
      details.put("reason", k.reason().name());
    } else {
      details.put("reason", e.getClass().getSimpleName());
    }
    details.put("message", String.valueOf(e.getMessage()));
    try {
      audit(AuditEvent.Type.ERROR, details);
    } catch (RuntimeException auditFailure) {
      e.addSuppressed(auditFailure);
    }
    return e;
  }

  /** Records an egress proxy decision; a failure to record refuses the request (fail closed). */
  private void auditEgress(EgressDecision d) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("protocol", d.protocol());
    details.put("host", d.host());
    details.put("port", d.port());
    if (d.address() != null) {
      details.put("address", d.address());
    }
    details.put("rule", d.rule());
    details.put("reason", d.reason());
    if (!d.secrets().isEmpty()) {
      details.put("secrets", d.secrets());
    }
    audit(d.allowed() ? AuditEvent.Type.EGRESS_ALLOWED : AuditEvent.Type.EGRESS_DENIED, details);
  }

  private void audit(AuditEvent.Type type, Map<String, Object> details) {
    AuditEvent event =
        new AuditEvent(config.clock().instant(), id, config.agentId(), type, details);
    for (AuditSink sink : config.auditSinks()) {
      sink.record(event);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      Trees.deleteRecursively(dir);
    } catch (IOException e) {
      // The start already failed; its error is the one to report.
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  @Override
  public String toString() {
    return "Sandbox[" + id + ", " + provider.name() + ", " + state() + "]";
  }
}
