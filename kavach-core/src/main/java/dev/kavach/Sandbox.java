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
import dev.kavach.credential.Injection;
import dev.kavach.credential.SecretRef;
import dev.kavach.egress.EgressDecision;
import dev.kavach.internal.fs.Trees;
import dev.kavach.scoring.Scoring;
import dev.kavach.scoring.StrengthScore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
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
  private final Object lock = new Object();

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
    try {
      Map<String, String> env = baseEnvironment();
      env.putAll(config.env());
      env.putAll(request.env());
      List<SecretFile> files = new ArrayList<>();
      byte[] stdin = injectSecrets(env, files, request.stdin(), toWipe);
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
      ExecResult result =
          new ExecResult(
              outcome.exitCode(),
              outcome.signal(),
              outcome.timedOut(),
              outcome.oomKilled(),
              outcome.stdout(),
              outcome.stderr(),
              outcome.stdoutTruncated(),
              outcome.stderrTruncated(),
              outcome.duration(),
              outcome.enforcement(),
              score,
              Optional.empty(),
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
      return result;
    } catch (RuntimeException e) {
      throw fail(e);
    } finally {
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
      Map<String, String> env, List<SecretFile> files, byte[] requestStdin, List<byte[]> toWipe) {
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
