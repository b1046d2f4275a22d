package dev.kavach.backend.wasm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.credential.SecretRef;
import dev.kavach.policy.FilesystemRule;
import dev.kavach.policy.SandboxPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The WASM backend end to end: real modules built from WebAssembly text, run through a Sandbox. */
@Timeout(60)
class WasmBackendTest {
  @TempDir static Path modules;
  static Path tool;
  static Path hello;

  private final WasmBackendProvider provider = new WasmBackendProvider();
  private final List<Sandbox> sandboxes = new ArrayList<>();

  @BeforeAll
  static void buildModules() throws Exception {
    tool = Wat.compileResource("kvtool", modules);
    hello = Wat.compileResource("hello", modules);
  }

  @AfterEach
  void destroySandboxes() {
    sandboxes.forEach(Sandbox::close);
  }

  private Sandbox started(SandboxConfig.Builder config) {
    return started(config, provider);
  }

  private Sandbox started(SandboxConfig.Builder config, WasmBackendProvider p) {
    Sandbox s = Sandbox.create(config.backend("wasm").build(), Backends.of(List.of(p)));
    sandboxes.add(s);
    s.start();
    return s;
  }

  private Sandbox started(SandboxPolicy policy) {
    return started(SandboxConfig.builder().policy(policy));
  }

  private static List<String> tool(String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(tool.toString());
    argv.addAll(List.of(args));
    return argv;
  }

  @Test
  void helloWorld() {
    ExecResult r = started(SandboxPolicy.minimal()).exec(List.of(hello.toString()));
    assertThat(r.stdoutText()).isEqualTo("hello, world\n");
    assertThat(r.stderrText()).isEmpty();
    assertThat(r.exitCode()).isZero();
    assertThat(r.signal()).isEmpty();
    assertThat(r.succeeded()).isTrue();
  }

  @Test
  void aWritePastTheFileSizeLimitStopsAtTheLimit() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal().toBuilder().maxFileSizeMb(1).build());
    ExecResult r = s.exec(tool("fill", "big", "3000000", "out", "never"));
    // The write that crosses the limit is cut at it; the next one fails and kvsh exits with the
    // WASI errno it got.
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderrText()).startsWith("kvtool: fill: errno ");
    assertThat(r.stdoutText()).isEmpty();
    assertThat(s.workspace().orElseThrow().resolve("big")).hasSize(1 << 20);
    assertThat(r.enforcement().fileSizeLimitBytes()).isEqualTo(1 << 20);
    // Below the limit nothing changes.
    assertThat(s.exec(tool("fill", "small", "1048576")).exitCode()).isZero();
    assertThat(s.workspace().orElseThrow().resolve("small")).hasSize(1 << 20);
  }

  @Test
  void exitCodeComesFromProcExit() {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult r = s.exec(tool("out", "before exit\\n", "exit", "3", "out", "never"));
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.signal()).isEmpty();
    assertThat(r.timedOut()).isFalse();
    assertThat(r.stdoutText()).isEqualTo("before exit\n");
    // Only the low 8 bits reach the caller, as with a process's exit status.
    assertThat(s.exec(tool("exit", "259")).exitCode()).isEqualTo(3);
  }

  @Test
  void argvAndEnvironmentAreEchoed() {
    Sandbox s =
        started(
            SandboxConfig.builder()
                .policy(SandboxPolicy.minimal())
                .env("FROM_CONFIG", "c")
                .secret(SecretRef.env("api", "API_TOKEN"))
                .credentials(name -> Optional.of("s3cr3t".getBytes(StandardCharsets.UTF_8))));
    ExecResult args = s.exec(tool("args", "two words", "ünïcode", ""));
    assertThat(args.stdoutText().split("\n", -1))
        .containsExactly(tool.toString(), "args", "two words", "ünïcode", "", "");
    ExecResult env = s.exec(ExecRequest.builder(tool("env")).env("FROM_REQUEST", "r").build());
    assertThat(env.stdoutText().split("\n"))
        .contains("FROM_CONFIG=c", "FROM_REQUEST=r", "API_TOKEN=s3cr3t", "HOME=/workspace")
        .anyMatch(l -> l.startsWith("PATH="));
    assertThat(System.getenv("KAVACH_TEST_HOST_MARKER")).isNotNull();
    assertThat(env.stdoutText()).doesNotContain("KAVACH_TEST_HOST_MARKER");
  }

  @Test
  void stdinIsEchoedAndEmptyByDefault() {
    Sandbox s = started(SandboxPolicy.minimal());
    assertThat(s.exec(tool("cat", "out", "end")).stdoutText()).isEqualTo("end");
    ExecResult r = s.exec(ExecRequest.builder(tool("cat")).stdin("line one\nline two\n").build());
    assertThat(r.stdoutText()).isEqualTo("line one\nline two\n");
  }

  @Test
  void stdoutAndStderrAreSeparateAndBinarySafe() {
    ExecResult r =
        started(SandboxPolicy.minimal()).exec(tool("out", "\\377\\000\\001\\n", "err", "err"));
    assertThat(r.stdout()).containsExactly(0xff, 0, 1, '\n');
    assertThat(r.stderrText()).isEqualTo("err");
  }

  @Test
  void tenMegabytesOfOutputAreCappedAndFlagged() {
    Sandbox s =
        started(SandboxConfig.builder().policy(SandboxPolicy.minimal()).outputLimit(64 * 1024));
    ExecResult r = s.exec(tool("zeros", "10000000", "zeros2", "100", "out", "done"));
    // The module was not stopped by the cap: it finished and its last write ran.
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).hasSize(64 * 1024);
    assertThat(r.stdoutTruncated()).isTrue();
    assertThat(r.stderr()).hasSize(100);
    assertThat(r.stderrTruncated()).isFalse();
  }

  @Test
  void anInfiniteLoopTimesOutAsAKill() {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult r =
        s.exec(
            ExecRequest.builder(tool("out", "before\\n", "loop"))
                .timeout(Duration.ofMillis(300))
                .build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.exitCode()).isEqualTo(137);
    assertThat(r.signal()).hasValue(9);
    assertThat(r.stdoutText()).isEqualTo("before\n");
    assertThat(r.duration()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    // Not a wall-clock assertion of the 100 ms target (see bench/RESULTS.md): only that it ended.
    assertThat(r.duration()).isLessThan(Duration.ofSeconds(10));
    // The sandbox's worker is free again.
    assertThat(s.exec(tool("out", "after")).stdoutText()).isEqualTo("after");
  }

  @Test
  void aSleepingModuleTimesOutToo() {
    ExecResult r =
        started(SandboxPolicy.minimal())
            .exec(
                ExecRequest.builder(tool("sleep", "3600")).timeout(Duration.ofMillis(200)).build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.signal()).hasValue(9);
  }

  @Test
  void theInterpreterIsStoppedByATimeoutAsWell() {
    WasmBackendProvider interpreter =
        new WasmBackendProvider(
            WasmOptions.builder().engine(WasmOptions.Engine.INTERPRETER).build());
    Sandbox s = started(SandboxConfig.builder().policy(SandboxPolicy.minimal()), interpreter);
    ExecResult r =
        s.exec(ExecRequest.builder(tool("loop")).timeout(Duration.ofMillis(200)).build());
    assertThat(r.timedOut()).isTrue();
    assertThat(r.enforcement().notes()).anyMatch(n -> n.startsWith("engine: interpreter"));
  }

  @Test
  void memoryGrowthPastTheLimitFailsInsideTheModule() {
    // 1 MiB is 16 pages; the tool starts with 4.
    Sandbox s = started(SandboxPolicy.builder().memoryLimitMb(1).build());
    ExecResult fits = s.exec(tool("grow", "12"));
    assertThat(fits.stdoutText()).isEqualTo("4\n");
    assertThat(fits.exitCode()).isZero();
    ExecResult over = s.exec(tool("grow", "13", "out", "still running\\n"));
    assertThat(over.stdoutText()).isEqualTo("-1\n");
    assertThat(over.exitCode()).isEqualTo(1);
    assertThat(over.oomKilled()).isFalse();
    assertThat(over.enforcement().memoryLimitBytes()).isEqualTo(1024 * 1024);
    // Without a limit the same growth succeeds: the limit, not the module, refused it.
    assertThat(started(SandboxPolicy.minimal()).exec(tool("grow", "13")).exitCode()).isZero();
  }

  @Test
  void aModuleWhoseInitialMemoryExceedsTheLimitIsOomKilled(@TempDir Path dir) throws Exception {
    Path big =
        Wat.compile("(module (memory 32) (func (export \"_start\")))", dir.resolve("big.wasm"));
    ExecResult r =
        started(SandboxPolicy.builder().memoryLimitMb(1).build()).exec(List.of(big.toString()));
    assertThat(r.oomKilled()).isTrue();
    assertThat(r.exitCode()).isEqualTo(137);
    assertThat(r.signal()).hasValue(9);
    assertThat(r.stderrText()).contains("initial memory is above the memory limit of 1 MiB");
  }

  @Test
  void aTrapIsAnAbortNotACrash() {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecResult r = s.exec(tool("out", "partial\\n", "trap"));
    assertThat(r.exitCode()).isEqualTo(134);
    assertThat(r.signal()).hasValue(6);
    assertThat(r.timedOut()).isFalse();
    assertThat(r.stdoutText()).isEqualTo("partial\n");
    assertThat(r.stderrText()).startsWith("kavach-wasm: trap: ").contains("unreachable");
    assertThat(s.exec(List.of(hello.toString())).succeeded()).isTrue();
  }

  @Test
  void unboundedRecursionIsATrap(@TempDir Path dir) throws Exception {
    Path deep =
        Wat.compile(
            "(module (func $f (call $f)) (func (export \"_start\") (call $f)))",
            dir.resolve("deep.wasm"));
    ExecResult r = started(SandboxPolicy.minimal()).exec(List.of(deep.toString()));
    assertThat(r.exitCode()).isEqualTo(134);
    assertThat(r.stderrText()).contains("call stack exhausted");
  }

  @Test
  void theInstructionBudgetStopsARunawayModule() {
    WasmBackendProvider budgeted =
        new WasmBackendProvider(WasmOptions.builder().instructionBudget(100_000).build());
    Sandbox s = started(SandboxConfig.builder().policy(SandboxPolicy.minimal()), budgeted);
    ExecResult r = s.exec(tool("loop"));
    assertThat(r.exitCode()).isEqualTo(152);
    assertThat(r.signal()).hasValue(24);
    assertThat(r.timedOut()).isFalse();
    assertThat(r.stderrText()).contains("instruction budget of 100000 exhausted");
    // A module that fits the budget is unaffected.
    assertThat(s.exec(List.of(hello.toString())).stdoutText()).isEqualTo("hello, world\n");
  }

  @Test
  void aModuleInTheWorkspaceRunsByRelativeOrAbsolutePath() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    Path ws = s.workspace().orElseThrow();
    Files.copy(hello, ws.resolve("app.wasm"));
    Files.createDirectories(ws.resolve("bin"));
    Files.copy(hello, ws.resolve("bin/app.wasm"));
    assertThat(s.exec(List.of("app.wasm")).stdoutText()).isEqualTo("hello, world\n");
    assertThat(s.exec(List.of("bin/app.wasm")).stdoutText()).isEqualTo("hello, world\n");
    assertThat(s.exec(List.of("/workspace/app.wasm")).stdoutText()).isEqualTo("hello, world\n");
  }

  @Test
  void aModuleSymlinkInTheWorkspaceCannotMakeTheHostReadItsTarget() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    Path ws = s.workspace().orElseThrow();
    // Planted by an earlier exec; as a host path it would point at a module outside the workspace.
    Files.createSymbolicLink(ws.resolve("app.wasm"), hello);
    assertThatThrownBy(() -> s.exec(List.of("/workspace/app.wasm")))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cannot read the module")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.LAUNCH_FAILED);
  }

  @Test
  void aBareNameIsLookedUpOnTheCommandPath() {
    WasmBackendProvider withPath =
        new WasmBackendProvider(WasmOptions.builder().commandPath(List.of(modules)).build());
    Sandbox s = started(SandboxConfig.builder().policy(SandboxPolicy.minimal()), withPath);
    ExecResult r = s.exec(List.of("hello"));
    assertThat(r.stdoutText()).isEqualTo("hello, world\n");
  }

  @Test
  void whatIsNotARunnableModuleIsALaunchFailure(@TempDir Path dir) throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    Path text = Files.writeString(dir.resolve("script.wasm"), "#!/bin/sh\necho hi\n");
    Path library = Wat.compile("(module (func (export \"f\")))", dir.resolve("lib.wasm"));
    Path sockets =
        Wat.compile(
            "(module (import \"wasi_snapshot_preview1\" \"sock_open\" (func (param i32 i32 i32) (result i32)))"
                + " (func (export \"_start\")))",
            dir.resolve("sock.wasm"));
    Path other =
        Wat.compile(
            "(module (import \"env\" \"system\" (func (param i32) (result i32))) (func (export \"_start\")))",
            dir.resolve("env.wasm"));
    assertLaunchFailure(s, "/no/such/module.wasm", "cannot read the module");
    assertLaunchFailure(s, "echo", "cannot read the module");
    assertLaunchFailure(s, text.toString(), "not a valid WebAssembly module");
    assertLaunchFailure(s, library.toString(), "no _start");
    assertLaunchFailure(s, sockets.toString(), "cannot link");
    assertLaunchFailure(s, other.toString(), "cannot link");
  }

  private static void assertLaunchFailure(Sandbox s, String command, String message) {
    assertThatThrownBy(() -> s.exec(List.of(command)))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining(message)
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.LAUNCH_FAILED);
  }

  @Test
  void aSecretFileIsReadableInMemoryAndReadOnly() {
    Sandbox s =
        started(
            SandboxConfig.builder()
                .policy(SandboxPolicy.minimal())
                .secret(SecretRef.file("token", "/run/secrets/token"))
                .credentials(name -> Optional.of("t0k3n".getBytes(StandardCharsets.UTF_8))));
    assertThat(s.exec(tool("read", "/run/secrets/token")).stdoutText()).isEqualTo("t0k3n");
    // Writing it fails (EIO: Chicory's code for an I/O error at open) and leaves it unchanged.
    ExecResult w = s.exec(tool("write", "/run/secrets/token", "x", "read", "/run/secrets/token"));
    assertThat(w.exitCode()).isEqualTo(29);
    assertThat(s.exec(tool("read", "/run/secrets/token")).stdoutText()).isEqualTo("t0k3n");
    // Nothing else is in its directory, and no other directory above it appears.
    assertThat(s.exec(tool("read", "/run/secrets/other")).exitCode()).isEqualTo(44);
  }

  @Test
  void enforcementReportsWhatHoldsAndTheScoreCountsOnlyThat(@TempDir Path data) {
    SandboxPolicy policy =
        SandboxPolicy.strict().toBuilder().filesystemRule(FilesystemRule.readOnly(data)).build();
    Sandbox s = started(policy);
    ExecResult r = s.exec(List.of(hello.toString()));
    var e = r.enforcement();
    assertThat(e.backend()).isEqualTo("wasm");
    assertThat(e.networkIsolated()).isTrue();
    assertThat(e.readOnlyRoot()).isTrue();
    assertThat(e.memoryLimitBytes()).isEqualTo(512L * 1024 * 1024);
    assertThat(e.cpuLimit()).isEqualTo(1.0);
    assertThat(e.pidsLimit()).isEqualTo(1);
    // No seccomp filter and no Landlock: neither is claimed, and the note says why.
    assertThat(e.seccompProfile()).isNull();
    assertThat(e.landlockAbi()).isZero();
    assertThat(e.notes())
        .anyMatch(n -> n.startsWith("seccomp: not applicable"))
        .anyMatch(n -> n.equals("preopens: /workspace rw, " + data + " ro"))
        .anyMatch(n -> n.startsWith("engine: compiler, module sha256:"));
    // 65 + network 5 + read-only root 3 + memory 2.
    assertThat(r.score().value()).isEqualTo(75);
    assertThat(r.usage()).hasValueSatisfying(u -> assertThat(u.memoryPeakBytes()).isEqualTo(65536));
  }

  @Test
  void aFractionOfACoreIsRefusedUnlessBestEffort() {
    SandboxPolicy half = SandboxPolicy.builder().cpuLimit(0.5).build();
    assertThatThrownBy(
            () ->
                Sandbox.create(
                    SandboxConfig.builder().backend("wasm").policy(half).build(),
                    Backends.of(List.of(provider))))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("cpu_limit (0.5)")
        .extracting(e -> ((KavachException) e).reason())
        .isEqualTo(Reason.ENFORCEMENT_FAILED);
    Sandbox s = started(half.toBuilder().bestEffort(true).build());
    ExecResult r = s.exec(List.of(hello.toString()));
    assertThat(r.enforcement().cpuLimit()).isZero();
    assertThat(r.enforcement().notes())
        .contains("cpu_limit 0.5 not enforced: a module can use one whole core");
  }

  @Test
  void preparedModulesAreCachedByContent(@TempDir Path dir) throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    long missesBefore = provider.cacheStats()[1];
    s.exec(List.of(hello.toString()));
    s.exec(List.of(hello.toString()));
    Path copy = Files.copy(hello, dir.resolve("same-bytes.wasm"));
    s.exec(List.of(copy.toString()));
    assertThat(provider.cacheStats()[1] - missesBefore).isEqualTo(1);
    // Replacing the file's content is a new module, not a stale cache hit.
    Files.copy(tool, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThat(s.exec(List.of(copy.toString(), "out", "new")).stdoutText()).isEqualTo("new");
  }

  @Test
  void stopKillsARunningModule() throws Exception {
    Sandbox s = started(SandboxPolicy.minimal());
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<ExecResult> running = pool.submit(() -> s.exec(tool("loop")));
      Thread.sleep(300);
      s.stop();
      ExecResult r = running.get();
      assertThat(r.exitCode()).isEqualTo(137);
      assertThat(r.signal()).hasValue(9);
      assertThat(r.timedOut()).isFalse();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theDefaultBasicPolicyRunsBecauseSeccompDoesNotApply() {
    Sandbox s = started(SandboxPolicy.basic());
    ExecResult r = s.exec(List.of(hello.toString()));
    assertThat(r.succeeded()).isTrue();
    assertThat(r.enforcement().seccomp()).isFalse();
    assertThat(r.score().value()).isEqualTo(65 + 5 + 3);
  }

  @Test
  void theProviderIsFoundByServiceLoader() {
    assertThat(Backends.discover().find("wasm")).isPresent();
    assertThat(Backends.discover().find("wasm").orElseThrow().probe().available()).isTrue();
    assertThat(Map.of("base", provider.baseScore())).containsEntry("base", 65);
  }
}
