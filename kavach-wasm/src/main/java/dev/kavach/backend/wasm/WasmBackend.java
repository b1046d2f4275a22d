package dev.kavach.backend.wasm;

import com.dylibso.chicory.log.Logger;
import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import com.dylibso.chicory.runtime.ExecutionCompletedException;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.wasi.WasiExitException;
import com.dylibso.chicory.wasi.WasiOptions;
import com.dylibso.chicory.wasi.WasiPreview1;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.UnlinkableException;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.ResourceUsage;
import dev.kavach.Sandbox;
import dev.kavach.backend.Backend;
import dev.kavach.backend.Enforcement;
import dev.kavach.backend.ExecOutcome;
import dev.kavach.backend.ExecSpec;
import dev.kavach.backend.SecretFile;
import dev.kavach.backend.wasm.GuestTree.MemoryFile;
import dev.kavach.backend.wasm.GuestTree.Mount;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One sandbox's WASM backend: runs each exec's module on a thread of its own pool, so that a
 * timeout or {@link #stop()} can interrupt it (Chicory checks the interrupt at every call and
 * backward branch) without touching the caller's thread.
 */
final class WasmBackend implements Backend {
  /** Largest module file read. */
  static final long MAX_MODULE_BYTES = 256L * 1024 * 1024;

  /** WebAssembly page size. */
  static final long PAGE = 65536;

  // The JVM's stack bounds the module's call depth (Chicory reports exhaustion as a trap); 16 MiB
  // fits the recursion of ordinary compiled C and Rust programs.
  private static final long STACK_BYTES = 16L * 1024 * 1024;

  // After a kill, how often the thread is interrupted again (host code may clear the flag) and how
  // long the exec waits for the module to stop before giving up on its thread.
  private static final Duration REINTERRUPT = Duration.ofMillis(5);
  private static final Duration KILL_GRACE = Duration.ofSeconds(5);

  private static final int SIGABRT = 6;
  private static final int SIGKILL = 9;
  private static final int SIGXCPU = 24;

  private static final Logger SILENT =
      new Logger() {
        @Override
        public void log(Level level, String msg, @Nullable Throwable throwable) {}

        @Override
        public boolean isLoggable(Level level) {
          return false;
        }
      };

  private final String sandboxId;
  private final SandboxPolicy policy;
  private final WasmOptions options;
  private final ModuleCache cache;
  private final SecureRandom random;
  private final Object fsLock = new Object();
  private final Set<Run> running = ConcurrentHashMap.newKeySet();
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

  private volatile @Nullable ExecutorService pool;
  private volatile @Nullable GuestTree tree;

  WasmBackend(
      String sandboxId,
      SandboxPolicy policy,
      WasmOptions options,
      ModuleCache cache,
      SecureRandom random) {
    this.sandboxId = sandboxId;
    this.policy = policy;
    this.options = options;
    this.cache = cache;
    this.random = random;
  }

  @Override
  public void start(Path workspace) {
    tree = new GuestTree(mounts(workspace), List.of());
    AtomicInteger n = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t =
              new Thread(
                  null, r, "kavach-wasm-" + sandboxId + "-" + n.incrementAndGet(), STACK_BYTES);
          t.setDaemon(true);
          return t;
        };
    pool = Executors.newCachedThreadPool(factory);
  }

  /** The workspace and every filesystem rule, as mounts at their guest paths. */
  private List<Mount> mounts(Path workspace) {
    List<Mount> mounts = new ArrayList<>();
    mounts.add(new Mount(List.of("workspace"), real(workspace, "workspace"), true, true));
    List<FilesystemRule> rules = policy.filesystemRules();
    for (int i = 0; i < rules.size(); i++) {
      FilesystemRule rule = rules.get(i);
      mounts.add(
          mount(
              "landlock_rules[" + i + "].path",
              rule.path(),
              rule.access() == FilesystemRule.Access.RW));
    }
    Path dataDir = policy.dataDir();
    if (dataDir != null) {
      mounts.add(mount("data_dir", dataDir, true));
    }
    return mounts;
  }

  private static Mount mount(String field, Path guest, boolean writable) {
    List<String> at = new ArrayList<>();
    guest.forEach(n -> at.add(n.toString()));
    if (GuestTree.isPrefix(List.of("workspace"), at)) {
      throw new KavachException(
          Reason.POLICY_INVALID,
          field
              + " ("
              + guest
              + ") is inside "
              + Sandbox.WORKSPACE
              + ", which the workspace occupies");
    }
    Path host = real(guest, field);
    return new Mount(at, host, writable, Files.isDirectory(host));
  }

  /**
   * The canonical host path: mount points hold no symbolic link, so the guest-space resolution
   * below them starts from a fixed directory.
   */
  private static Path real(Path p, String field) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED, field + " (" + p + ") cannot be mounted: " + e, e);
    }
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    long started = System.nanoTime();
    GuestTree base = tree;
    ExecutorService workers = pool;
    if (base == null || workers == null) {
      throw new KavachException(
          Reason.INVALID_STATE, "wasm backend of " + sandboxId + " is not started");
    }
    GuestFileSystemProvider fs =
        new GuestFileSystemProvider(base.withFiles(memoryFiles(spec)), fsLock, maxFileSize());
    String command = spec.argv().get(0);
    byte[] wasm = readModule(command, fs);
    ModuleCache.Prepared prepared;
    try {
      prepared = cache.get(wasm, options.engine() == WasmOptions.Engine.COMPILER);
    } catch (ChicoryException e) {
      throw launchFailed(command, "not a valid WebAssembly module: " + e.getMessage(), e);
    }
    if (!exportsStart(prepared)) {
      throw launchFailed(
          command, "the module exports no _start function (not a WASI command)", null);
    }

    Enforcement.Builder report = enforcement(prepared, fs);
    Run run = new Run(spec.outputLimit());
    long limitPages = memoryLimitPages();
    MemoryLimits limits = memoryLimits(prepared, limitPages);
    if (limits == null) {
      run.stderr.note(
          "kavach-wasm: the module's initial memory is above the memory limit of "
              + limitPages * PAGE / (1024 * 1024)
              + " MiB\n");
      return outcome(run, new Ending.OutOfMemory(), report, started, null);
    }
    WasiOptions wasi = wasiOptions(spec, fs, run);
    running.add(run);
    try {
      try {
        workers.execute(() -> run.execute(prepared, wasi, limits));
      } catch (RejectedExecutionException e) {
        throw new KavachException(
            Reason.INVALID_STATE, "wasm backend of " + sandboxId + " is stopped", e);
      }
      if (!run.await(spec.timeout())) {
        run.kill(true);
        long deadline = System.nanoTime() + KILL_GRACE.toNanos();
        while (!run.await(REINTERRUPT) && System.nanoTime() < deadline) {
          run.interruptAgain();
        }
        if (!run.finished()) {
          report.note(
              "the module ignored the kill for "
                  + KILL_GRACE.toSeconds()
                  + " s; its thread was abandoned");
          return outcome(run, new Ending.Killed(true), report, started, null);
        }
      }
    } finally {
      running.remove(run);
    }
    Ending end = run.ending();
    if (end instanceof Ending.LaunchFailed f) {
      throw launchFailed(command, "cannot link: " + f.cause().getMessage(), f.cause());
    }
    return outcome(run, end, report, started, run.usage());
  }

  private static KavachException launchFailed(
      String command, String why, @Nullable Throwable cause) {
    return new KavachException(
        Reason.LAUNCH_FAILED, "wasm: cannot run " + command + ": " + why, cause);
  }

  /** Secret files, as read-only in-memory files of the guest. */
  private static List<MemoryFile> memoryFiles(ExecSpec spec) {
    List<MemoryFile> files = new ArrayList<>();
    for (SecretFile f : spec.secretFiles()) {
      files.add(new MemoryFile(names(f.path()), f.content(), f.mode()));
    }
    return files;
  }

  private static List<String> names(String guestPath) {
    List<String> names = new ArrayList<>();
    for (String n : guestPath.split("/")) {
      if (!n.isEmpty() && !n.equals(".")) {
        names.add(n);
      }
    }
    return names;
  }

  /**
   * Reads the command's module. A path under the workspace (absolute or relative) is read through
   * the guest filesystem, so a symbolic link there cannot make the host read a file of its
   * choosing; any other absolute path is the caller's own choice of a host file.
   */
  private byte[] readModule(String command, GuestFileSystemProvider fs) {
    List<Path> candidates = new ArrayList<>();
    if (command.startsWith("/")) {
      boolean inWorkspace =
          command.equals(Sandbox.WORKSPACE) || command.startsWith(Sandbox.WORKSPACE + "/");
      candidates.add(inWorkspace ? fs.path(command) : Path.of(command));
    } else if (command.contains("/")) {
      candidates.add(fs.path(Sandbox.WORKSPACE + "/" + command));
    } else {
      for (Path dir : options.commandPath()) {
        candidates.add(dir.resolve(command.endsWith(".wasm") ? command : command + ".wasm"));
      }
      candidates.add(fs.path(Sandbox.WORKSPACE + "/" + command));
    }
    IOException last = null;
    for (Path p : candidates) {
      try (InputStream in =
          Channels.newInputStream(
              p.getFileSystem().provider().newFileChannel(p, Set.of(StandardOpenOption.READ)))) {
        byte[] bytes = in.readNBytes((int) MAX_MODULE_BYTES + 1);
        if (bytes.length > MAX_MODULE_BYTES) {
          throw launchFailed(
              command, "the module is larger than " + MAX_MODULE_BYTES + " bytes", null);
        }
        return bytes;
      } catch (IOException | UnsupportedOperationException e) {
        last = e instanceof IOException io ? io : new IOException(e);
      }
    }
    throw launchFailed(
        command,
        "cannot read the module ("
            + last
            + "); the command is a .wasm file: under "
            + Sandbox.WORKSPACE
            + " or relative to it, an absolute host path, or a name on the command path",
        last);
  }

  private static boolean exportsStart(ModuleCache.Prepared p) {
    var exports = p.module().exportSection();
    for (int i = 0; i < exports.exportCount(); i++) {
      var e = exports.getExport(i);
      if (e.name().equals("_start") && e.exportType() == ExternalType.FUNCTION) {
        return true;
      }
    }
    return false;
  }

  /** The memory limit in pages, or 0 for none. */
  private long memoryLimitPages() {
    Long mb = policy.memoryLimitMb();
    if (mb == null) {
      return 0;
    }
    return Math.min(mb * (1024 * 1024 / PAGE), MemoryLimits.MAX_PAGES);
  }

  /**
   * The module's own memory limits with the policy's maximum applied, or null when its initial
   * memory already exceeds it.
   */
  private static @Nullable MemoryLimits memoryLimits(ModuleCache.Prepared p, long limitPages) {
    var section = p.module().memorySection();
    if (section.isEmpty() || section.get().memoryCount() == 0) {
      return MemoryLimits.defaultLimits(); // unused: the module has no memory of its own
    }
    MemoryLimits declared = section.get().getMemory(0).limits();
    if (limitPages == 0) {
      return declared;
    }
    if (declared.initialPages() > limitPages) {
      return null;
    }
    int max = (int) Math.min(declared.maximumPages(), limitPages);
    return new MemoryLimits(declared.initialPages(), max, declared.shared());
  }

  private WasiOptions wasiOptions(ExecSpec spec, GuestFileSystemProvider fs, Run run) {
    WasiOptions.Builder b =
        WasiOptions.builder()
            .withArguments(spec.argv())
            .withStdin(new ByteArrayInputStream(spec.stdin()), false)
            .withStdout(run.stdout, false)
            .withStderr(run.stderr, false)
            .withClock(Clock.systemUTC())
            // Modules derive keys and nonces from random_get: never a predictable generator.
            .withRandom(random);
    spec.env().forEach(b::withEnvironment);
    preopens(fs).forEach(b::withDirectory);
    return b.build();
  }

  /**
   * The guest's preopened directories: the workspace (as {@code /workspace} and as {@code .}, the
   * working directory of programs that open relative paths), each directory rule, the directory
   * holding each file rule, and the directory holding each secret file.
   */
  private static Map<String, Path> preopens(GuestFileSystemProvider fs) {
    Map<String, Path> out = new LinkedHashMap<>();
    out.put(Sandbox.WORKSPACE, fs.path(Sandbox.WORKSPACE));
    out.put(".", fs.path(Sandbox.WORKSPACE));
    GuestTree t = treeOf(fs);
    for (Mount m : t.mounts()) {
      List<String> dir = m.directory() ? m.at() : parent(m.at());
      out.putIfAbsent("/" + String.join("/", dir), fs.path("/" + String.join("/", dir)));
    }
    for (MemoryFile f : t.files()) {
      List<String> dir = parent(f.at());
      out.putIfAbsent("/" + String.join("/", dir), fs.path("/" + String.join("/", dir)));
    }
    return out;
  }

  private static GuestTree treeOf(GuestFileSystemProvider fs) {
    return fs.tree();
  }

  private static List<String> parent(List<String> at) {
    return at.isEmpty() ? at : at.subList(0, at.size() - 1);
  }

  /** The policy's max_file_size_mb in bytes, 0 for none. */
  private long maxFileSize() {
    Long mb = policy.maxFileSizeMb();
    return mb == null ? 0 : mb << 20;
  }

  /** What holds for every exec of this sandbox, and what this module runs on. */
  private Enforcement.Builder enforcement(
      ModuleCache.Prepared prepared, GuestFileSystemProvider fs) {
    Enforcement.Builder e =
        Enforcement.builder("wasm")
            // No socket can be created under WASI preview 1, whatever the policy allows.
            .networkIsolated(true)
            // The guest sees only its preopens, and writes only to the read-write ones.
            .readOnlyRoot(true)
            .memoryLimitBytes(memoryLimitPages() * PAGE);
    Double cpu = policy.cpuLimit();
    if (cpu != null) {
      if (cpu >= 1.0) {
        e.cpuLimit(1.0);
      } else {
        e.note("cpu_limit " + cpu + " not enforced: a module can use one whole core");
      }
    }
    if (policy.maxPids() != null) {
      e.pidsLimit(1);
    }
    e.fileSizeLimitBytes(maxFileSize());
    e.note("engine: " + prepared.engine() + ", module " + prepared.digest());
    StringBuilder mounts = new StringBuilder("preopens:");
    for (Mount m : treeOf(fs).mounts()) {
      mounts.append(" /").append(String.join("/", m.at())).append(m.writable() ? " rw," : " ro,");
    }
    mounts.setLength(mounts.length() - 1);
    e.note(mounts.toString());
    if (policy.seccompEnabled()) {
      e.note(
          "seccomp: not applicable, the module makes no system calls (its only calls out are WASI"
              + " preview 1 functions); no filter is installed on the JVM");
    }
    if (!policy.network().isolated()) {
      e.note("network: requested, but WASI preview 1 has no sockets");
    }
    options.instructionBudget().ifPresent(n -> e.note("instruction budget: " + n));
    return e;
  }

  private static ExecOutcome outcome(
      Run run,
      Ending end,
      Enforcement.Builder report,
      long startedNanos,
      @Nullable ResourceUsage usage) {
    int exit;
    OptionalInt signal = OptionalInt.empty();
    boolean timedOut = false;
    boolean oom = false;
    if (end instanceof Ending.Exited x) {
      exit = x.code() & 0xff;
    } else if (end instanceof Ending.Trapped t) {
      run.stderr.note("kavach-wasm: trap: " + t.message() + "\n");
      exit = 128 + SIGABRT;
      signal = OptionalInt.of(SIGABRT);
    } else if (end instanceof Ending.BudgetExhausted b) {
      run.stderr.note("kavach-wasm: instruction budget of " + b.budget() + " exhausted\n");
      exit = 128 + SIGXCPU;
      signal = OptionalInt.of(SIGXCPU);
    } else if (end instanceof Ending.OutOfMemory) {
      exit = 128 + SIGKILL;
      signal = OptionalInt.of(SIGKILL);
      oom = true;
    } else {
      exit = 128 + SIGKILL;
      signal = OptionalInt.of(SIGKILL);
      timedOut = ((Ending.Killed) end).timeout();
    }
    return new ExecOutcome(
        exit,
        signal,
        timedOut,
        oom,
        run.stdout.bytes(),
        run.stderr.bytes(),
        run.stdout.truncated(),
        run.stderr.truncated(),
        Duration.ofNanos(System.nanoTime() - startedNanos),
        report.build(),
        usage);
  }

  @Override
  public void stop() {
    running.forEach(r -> r.kill(false));
  }

  @Override
  public void destroy() {
    stop();
    ExecutorService workers = pool;
    if (workers != null) {
      workers.shutdownNow();
    }
  }

  /** Thrown into a module to end it when its exec is killed. */
  static final class Killed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Killed() {
      super("killed", null, false, false);
    }
  }

  /** Thrown by the instruction counter. */
  private static final class OverBudget extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OverBudget() {
      super("instruction budget exhausted", null, false, false);
    }
  }

  /** How a module's run ended. */
  private sealed interface Ending {
    record Exited(int code) implements Ending {}

    record Trapped(String message) implements Ending {}

    record BudgetExhausted(long budget) implements Ending {}

    record OutOfMemory() implements Ending {}

    record Killed(boolean timeout) implements Ending {}

    record LaunchFailed(ChicoryException cause) implements Ending {}
  }

  /** One exec's run of a module on a pool thread. */
  private final class Run {
    final BoundedOutput stdout;
    final BoundedOutput stderr;
    private final CountDownLatch done = new CountDownLatch(1);
    // Guarded by this: the thread running the module (null before and after), and the kill.
    private @Nullable Thread thread;
    private boolean killed;
    private boolean timeout;
    private volatile @Nullable Ending ending;
    private volatile @Nullable ResourceUsage usage;

    Run(int outputLimit) {
      this.stdout = new BoundedOutput(outputLimit, this::isKilled);
      this.stderr = new BoundedOutput(outputLimit, this::isKilled);
    }

    void execute(ModuleCache.Prepared prepared, WasiOptions wasiOptions, MemoryLimits limits) {
      synchronized (this) {
        if (killed) {
          ending = new Ending.Killed(timeout);
          done.countDown();
          return;
        }
        thread = Thread.currentThread();
      }
      long cpuStart = threads.getCurrentThreadCpuTime();
      Instance instance = null;
      Ending end;
      try (WasiPreview1 wasi =
          WasiPreview1.builder().withLogger(SILENT).withOptions(wasiOptions).build()) {
        Instance.Builder b =
            Instance.builder(prepared.module())
                .withImportValues(
                    ImportValues.builder().addFunction(wasi.toHostFunctions()).build())
                .withMachineFactory(prepared.machine())
                .withMemoryLimits(limits)
                .withStart(false);
        long budget = options.instructionBudget().orElse(0);
        if (budget > 0) {
          long[] count = {0};
          b.withUnsafeExecutionListener(
              (instruction, stack) -> {
                if (++count[0] > budget) {
                  throw new OverBudget();
                }
              });
        }
        instance = b.build();
        instance.export("_start").apply();
        end = new Ending.Exited(0);
      } catch (WasiExitException e) {
        end = new Ending.Exited(e.exitCode());
      } catch (ExecutionCompletedException e) {
        end = new Ending.Exited(0);
      } catch (OverBudget e) {
        end = new Ending.BudgetExhausted(options.instructionBudget().orElse(0));
      } catch (UnlinkableException e) {
        end = new Ending.LaunchFailed(e);
      } catch (RuntimeException e) {
        // Interrupts surface as several exception types (ChicoryInterruptedException, a
        // ChicoryException from a sleeping poll_oneoff, Killed from an output write): the kill
        // flag, not the type, says the run was killed.
        end = isKilled() ? new Ending.Killed(isTimeout()) : trap(e);
      } catch (StackOverflowError e) {
        end = new Ending.Trapped("call stack exhausted");
      } catch (OutOfMemoryError e) {
        // The JVM could not give the module the memory it asked for; the module is dropped.
        end = new Ending.OutOfMemory();
      }
      long memory = -1;
      if (instance != null) {
        try {
          memory = instance.memory() == null ? 0 : instance.memory().pages() * PAGE;
        } catch (RuntimeException e) {
          memory = -1;
        }
      }
      usage =
          new ResourceUsage(
              Duration.ofNanos(Math.max(0, threads.getCurrentThreadCpuTime() - cpuStart)),
              memory,
              1);
      ending = end;
      synchronized (this) {
        thread = null;
        // A kill that raced the end must not leak into the pool thread's next task.
        Thread.interrupted();
      }
      done.countDown();
    }

    private Ending trap(RuntimeException e) {
      if (e instanceof ChicoryInterruptedException) {
        return new Ending.Killed(false);
      }
      String msg = e.getMessage();
      return new Ending.Trapped(msg == null ? e.getClass().getSimpleName() : msg);
    }

    boolean await(Duration d) {
      try {
        return done.await(d.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        // The caller was interrupted: end the module as a kill and keep the caller's interrupt.
        kill(false);
        Thread.currentThread().interrupt();
        try {
          return done.await(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException again) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }

    boolean finished() {
      return done.getCount() == 0;
    }

    synchronized void kill(boolean byTimeout) {
      if (!killed) {
        killed = true;
        timeout = byTimeout;
      }
      if (thread != null) {
        thread.interrupt();
      }
    }

    synchronized void interruptAgain() {
      if (thread != null) {
        thread.interrupt();
      }
    }

    synchronized boolean isKilled() {
      return killed;
    }

    synchronized boolean isTimeout() {
      return timeout;
    }

    Ending ending() {
      Ending e = ending;
      return e == null ? new Ending.Killed(isTimeout()) : e;
    }

    @Nullable ResourceUsage usage() {
      return usage;
    }
  }
}
