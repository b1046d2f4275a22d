package dev.kavach.backend.wasm;

import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Availability;
import dev.kavach.backend.Backend;
import dev.kavach.backend.BackendProvider;
import dev.kavach.backend.Capability;
import dev.kavach.policy.SandboxPolicy;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code wasm} backend (base score 65): the command is a WebAssembly module that runs on
 * Chicory inside this JVM, under WASI preview 1.
 *
 * <p>What the module can reach is what it is handed: its arguments, the built environment (with
 * injected secrets), standard input, two output streams captured up to the sandbox's cap, clocks,
 * secure randomness, and a guest filesystem of preopened directories: the workspace read-write at
 * {@code /workspace} (also preopened as {@code .}, the guest's working directory), each policy
 * filesystem rule at its own path with its access, and secret files in memory. WASI preview 1 has
 * no sockets, no processes and no threads.
 *
 * <p>The command ({@code argv[0]}) is a {@code .wasm} file: a path under {@code /workspace} or
 * relative to it, read through the guest filesystem; another absolute path, read from the host; or
 * a bare name looked up in {@link WasmOptions#commandPath()} (as {@code NAME.wasm}), then in the
 * workspace. The module sees {@code argv[0]} as given.
 *
 * <p>How an exec ends:
 *
 * <ul>
 *   <li>{@code _start} returns: exit 0; {@code proc_exit(n)}: exit {@code n & 0xff};
 *   <li>a trap (unreachable, out-of-bounds access, call stack exhausted...): exit 134 with signal
 *       6, as a native program that aborts, and a {@code kavach-wasm: trap: ...} line on stderr;
 *   <li>timeout, {@code stop} or destroy: the module's thread is interrupted and the run stops
 *       within milliseconds; exit 137 with signal 9, as other backends kill, and {@code timedOut}
 *       for a timeout;
 *   <li>the instruction budget exhausted: exit 152 with signal 24 ({@code SIGXCPU}, as a CPU time
 *       limit), and a line on stderr;
 *   <li>the module's initial memory above the memory limit: exit 137 with signal 9 and {@code
 *       oomKilled}. Growing past the limit is not an ending: {@code memory.grow} returns -1.
 * </ul>
 *
 * A file that is not a valid module, lacks {@code _start}, or imports anything but WASI preview 1
 * is a {@link KavachException} with {@link Reason#LAUNCH_FAILED}: the command did not run.
 *
 * <pre>{@code
 * SandboxConfig config = SandboxConfig.builder().backend("wasm").policy(SandboxPolicy.minimal()).build();
 * try (Sandbox sandbox = Sandbox.create(config)) {
 *   sandbox.start();
 *   ExecResult r = sandbox.exec(List.of("/opt/tools/hello.wasm", "world"));
 * }
 * }</pre>
 *
 * <p>The provider keeps one cache of prepared (parsed and compiled) modules for every sandbox it
 * opens: share a provider instance (through {@link dev.kavach.backend.Backends#of}) to share it.
 */
public final class WasmBackendProvider implements BackendProvider {
  private final WasmOptions options;
  private final ModuleCache cache;
  private final SecureRandom random = new SecureRandom();

  /** A provider with {@link WasmOptions#defaults()} (for {@link java.util.ServiceLoader}). */
  public WasmBackendProvider() {
    this(WasmOptions.defaults());
  }

  /** A provider with these options. */
  public WasmBackendProvider(WasmOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    this.cache = new ModuleCache(options.cacheEntries(), options.cacheBytes());
  }

  @Override
  public String name() {
    return "wasm";
  }

  @Override
  public String description() {
    return "WebAssembly (WASI preview 1) module in-process on Chicory: preopened directories only,"
        + " no sockets, no processes, bounded memory";
  }

  @Override
  public int baseScore() {
    return 65;
  }

  @Override
  public Availability probe() {
    // Chicory is a dependency of this module and pure Java: if this class loaded, it runs.
    return Availability.available(
        "Chicory "
            + com.dylibso.chicory.wasm.Version.version()
            + ", in-process ("
            + options.engine().name().toLowerCase(java.util.Locale.ROOT)
            + ")");
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.RUNS_COMMANDS,
        // WASI preview 1 has no socket creation; the sock_* calls on inherited sockets find none.
        Capability.NETWORK_ISOLATION,
        Capability.FILESYSTEM_RULES,
        // Nothing outside the preopens exists for the guest, and only rw preopens are writable.
        Capability.READ_ONLY_ROOT,
        Capability.MEMORY_LIMIT,
        // A module runs on one thread, so it can use at most one core: cpu_limit >= 1 holds;
        // open() refuses a fraction of a core, which this backend cannot enforce.
        Capability.CPU_LIMIT,
        // WASI preview 1 cannot create processes or threads: any max_pids >= 1 holds.
        Capability.PIDS_LIMIT,
        // Every writable host file is opened through a channel that stops at the limit.
        Capability.FILE_SIZE_LIMIT,
        Capability.SECRET_ENV,
        Capability.SECRET_STDIN,
        // Secret files live in the JVM's memory, in a read-only guest directory.
        Capability.SECRET_FILE,
        Capability.RESOURCE_USAGE);
  }

  /**
   * Seccomp filters the system calls of a process; a module makes none (its only way out is the
   * fixed set of WASI functions), so a seccomp request holds without a filter. It is never scored.
   */
  @Override
  public Set<Capability> inapplicable() {
    return EnumSet.of(Capability.SECCOMP);
  }

  @Override
  public Backend open(String sandboxId, SandboxConfig config) {
    SandboxPolicy policy = config.policy();
    Double cpu = policy.cpuLimit();
    if (cpu != null && cpu < 1.0 && !policy.bestEffort()) {
      throw new KavachException(
          Reason.ENFORCEMENT_FAILED,
          "backend wasm cannot enforce cpu_limit ("
              + cpu
              + "): a module runs on one thread, so only limits of at least one core hold"
              + " (use a cgroup backend, raise the limit, or set best_effort)");
    }
    return new WasmBackend(sandboxId, policy, options, cache, random);
  }

  /** The prepared-module cache's hits and misses, for tests and benchmarks. */
  long[] cacheStats() {
    return cache.stats();
  }

  @Override
  public String toString() {
    return "WasmBackendProvider[" + options.engine() + "]";
  }
}
