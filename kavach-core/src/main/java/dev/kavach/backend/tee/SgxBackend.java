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
import dev.kavach.internal.guest.GuestHost;
import dev.kavach.internal.guest.GuestVm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/** One sandbox's Gramine runs: a run directory on tmpfs, one signed manifest per exec. */
final class SgxBackend implements Backend {
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);
  private static final int DEFAULT_ENCLAVE_MIB = 256;

  private final String id;
  private final SandboxConfig config;
  private final GuestHost host;
  private final Set<Exec.Running> running = ConcurrentHashMap.newKeySet();
  private @Nullable Path runDir;
  private @Nullable Path workspace;
  private @Nullable Path key;

  SgxBackend(String id, SandboxConfig config, GuestHost host) {
    this.id = id;
    this.config = config;
    this.host = host;
  }

  @Override
  public void start(Path ws) {
    runDir = GuestVm.runDirectory("sgx", id);
    workspace = ws;
    Optional<String> configured = host.setting("kavach.sgx.signing-key");
    if (configured.isPresent()) {
      key = Path.of(configured.get());
    } else {
      // An ephemeral signing key on tmpfs: MRSIGNER then identifies this sandbox, not a vendor.
      Path k = runDir.resolve("enclave-key.pem");
      tool(List.of(toolPath("gramine-sgx-gen-private-key"), k.toString()), runDir);
      key = k;
    }
  }

  private String toolPath(String name) {
    return host.tool(name)
        .orElseThrow(() -> new KavachException(Reason.BACKEND_UNAVAILABLE, name + " not found"))
        .toString();
  }

  private void tool(List<String> argv, Path cwd) {
    Exec.Result r =
        Exec.run(Exec.command(argv).cwd(cwd).timeout(TOOL_TIMEOUT).outputLimit(64 * 1024).build());
    if (r.exitValue() != 0 || r.timedOut()) {
      throw new KavachException(
          Reason.LAUNCH_FAILED,
          Path.of(argv.get(0)).getFileName()
              + " failed ("
              + r.exitValue()
              + "): "
              + (r.stderrText() + r.stdoutText()).strip());
    }
  }

  /** The program a bare argv[0] names on the command's own PATH. */
  static Optional<Path> resolve(String argv0, Map<String, String> env) {
    List<Path> candidates = new ArrayList<>();
    if (argv0.contains("/")) {
      candidates.add(Path.of(argv0));
    } else {
      for (String dir : env.getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
        if (dir.startsWith("/")) {
          candidates.add(Path.of(dir, argv0));
        }
      }
    }
    for (Path p : candidates) {
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        try {
          return Optional.of(p.toRealPath());
        } catch (IOException e) {
          // Vanished; try the next.
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public ExecOutcome exec(ExecSpec spec) {
    Path dir = runDir;
    Path ws = workspace;
    Path k = key;
    if (dir == null || ws == null || k == null) {
      throw new KavachException(Reason.INVALID_STATE, "sgx " + id + " is not running");
    }
    Path program =
        resolve(spec.argv().get(0), spec.env())
            .orElseThrow(
                () ->
                    new KavachException(
                        Reason.LAUNCH_FAILED,
                        spec.argv().get(0) + " not found on the command's PATH"));
    Long mem = config.policy().memoryLimitMb();
    int enclave = GramineManifest.enclaveSize(mem == null ? DEFAULT_ENCLAVE_MIB : mem);
    Path execDir;
    try {
      execDir = Files.createDirectory(dir.resolve(spec.execId()));
      byte[] hash = AgentBinary.sha256(Files.readAllBytes(program));
      GramineManifest manifest =
          new GramineManifest(
              program.toString(),
              hash,
              spec.argv(),
              List.copyOf(new TreeSet<>(spec.env().keySet())),
              enclave,
              ws.toString(),
              16);
      Files.writeString(
          execDir.resolve("app.manifest.template"), manifest.render(), StandardCharsets.UTF_8);
    } catch (IOException | IllegalArgumentException e) {
      throw new KavachException(Reason.LAUNCH_FAILED, "sgx manifest: " + e.getMessage(), e);
    }
    try {
      tool(
          List.of(
              toolPath("gramine-manifest"),
              "-Darch_libdir=" + GramineManifest.ARCH_LIBDIR,
              "app.manifest.template",
              "app.manifest"),
          execDir);
      tool(
          List.of(
              toolPath("gramine-sgx-sign"),
              "--key",
              k.toString(),
              "--manifest",
              "app.manifest",
              "--output",
              "app.manifest.sgx"),
          execDir);
      List<String> argv = new ArrayList<>();
      boolean isolate = config.policy().network().isolated();
      if (isolate) {
        argv.addAll(List.of(toolPath("unshare"), "--net", "--"));
      }
      argv.add(toolPath("gramine-sgx"));
      argv.add("app");
      // The values reach the enclave here, through gramine-sgx's environment (passthrough).
      Exec.Running r =
          Exec.start(
              Exec.command(argv)
                  .env(spec.env())
                  .cwd(execDir)
                  .stdin(spec.stdin())
                  .timeout(spec.timeout())
                  .outputLimit(spec.outputLimit())
                  .build());
      running.add(r);
      Exec.Result res;
      try {
        res = r.await();
      } finally {
        running.remove(r);
      }
      Enforcement.Builder e =
          Enforcement.builder("sgx")
              .networkIsolated(isolate)
              .memoryLimitBytes((long) enclave << 20)
              .note(
                  "Intel SGX enclave (Gramine): "
                      + enclave
                      + " MiB, program and libraries hashed, environment values passed at run"
                      + " time (not measured)");
      return new ExecOutcome(
          res.exitValue(),
          res.timedOut() || res.killed() ? OptionalInt.of(9) : OptionalInt.empty(),
          res.timedOut(),
          false,
          res.stdout().bytes(),
          res.stderr().bytes(),
          res.stdout().truncated(),
          res.stderr().truncated(),
          res.duration(),
          e.build(),
          null);
    } finally {
      try {
        Trees.deleteRecursively(execDir);
      } catch (IOException e) {
        // Removed with the run directory at destroy.
      }
    }
  }

  @Override
  public void stop() {
    running.forEach(Exec.Running::kill);
  }

  @Override
  public void destroy() {
    stop();
    Path dir = runDir;
    runDir = null;
    if (dir != null) {
      try {
        Trees.deleteRecursively(dir);
      } catch (IOException e) {
        throw new KavachException(Reason.IO, "sgx cleanup: " + e, e);
      }
    }
  }
}
