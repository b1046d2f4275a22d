package dev.kavach.bench;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasi.WasiOptions;
import com.dylibso.chicory.wasi.WasiPreview1;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import dev.kavach.ExecRequest;
import dev.kavach.ExecResult;
import dev.kavach.Sandbox;
import dev.kavach.SandboxConfig;
import dev.kavach.backend.Backends;
import dev.kavach.backend.wasm.WasmBackendProvider;
import dev.kavach.backend.wasm.WasmOptions;
import dev.kavach.policy.SandboxPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The WASM backend: a warm run of a trivial module through a Sandbox (target p50 at most 100 us)
 * against the same run on raw Chicory, a CPU-bound loop in each Chicory engine, and how long past
 * its deadline an infinite loop runs. Modules are built with {@code wat2wasm} (package wabt).
 */
public class WasmBenchmark {

  static final String HELLO =
      "(module (import \"wasi_snapshot_preview1\" \"fd_write\""
          + " (func $w (param i32 i32 i32 i32) (result i32)))"
          + " (memory (export \"memory\") 1) (data (i32.const 16) \"hello, world\\n\")"
          + " (func (export \"_start\") (i32.store (i32.const 0) (i32.const 16))"
          + " (i32.store (i32.const 4) (i32.const 13))"
          + " (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";

  /** 1,000,000 iterations of x = x * 31 + i, stored to memory so the loop is not dead code. */
  static final String LOOP =
      "(module (memory (export \"memory\") 1)"
          + " (func (export \"_start\") (local $i i32) (local $x i32)"
          + " (loop $l (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))"
          + " (local.set $i (i32.add (local.get $i) (i32.const 1)))"
          + " (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))"
          + " (i32.store (i32.const 0) (local.get $x))))";

  static final String SPIN = "(module (func (export \"_start\") (loop $l (br $l))))";

  static Path compile(Path dir, String name, String wat) throws IOException, InterruptedException {
    Path src = Files.writeString(dir.resolve(name + ".wat"), wat);
    Path out = dir.resolve(name + ".wasm");
    Process p =
        new ProcessBuilder("wat2wasm", src.toString(), "-o", out.toString()).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("wat2wasm failed for " + name);
    }
    return out;
  }

  static Sandbox sandbox(WasmOptions options) {
    Sandbox s =
        Sandbox.create(
            SandboxConfig.builder().backend("wasm").policy(SandboxPolicy.minimal()).build(),
            Backends.of(List.of(new WasmBackendProvider(options))));
    s.start();
    return s;
  }

  /** A trivial module run again and again: kavach versus raw Chicory. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Fork(1)
  @Warmup(iterations = 3, time = 2)
  @Measurement(iterations = 5, time = 2)
  public static class WarmRun {
    Path dir;
    Path hello;
    Sandbox sandbox;
    List<String> argv;
    WasmModule module;
    Function<Instance, Machine> machine;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      dir = Files.createTempDirectory("kavach-bench-wasm");
      hello = compile(dir, "hello", HELLO);
      sandbox = sandbox(WasmOptions.defaults());
      argv = List.of(hello.toString());
      module = Parser.parse(hello);
      machine = MachineFactoryCompiler.compile(module);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      sandbox.close();
      Files.deleteIfExists(hello);
      Files.deleteIfExists(dir.resolve("hello.wat"));
      Files.deleteIfExists(dir);
    }

    /** Sandbox.exec: read and hash the file, cache hit, WASI setup, run, audit, score. */
    @Benchmark
    public ExecResult kavachExec() {
      return sandbox.exec(ExecRequest.of(argv));
    }

    /** Baseline: instantiate the precompiled module and run _start, output to a byte array. */
    @Benchmark
    public byte[] rawChicory() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (WasiPreview1 wasi =
          WasiPreview1.builder()
              .withOptions(WasiOptions.builder().withStdout(out).withArguments(argv).build())
              .build()) {
        Instance instance =
            Instance.builder(module)
                .withImportValues(
                    ImportValues.builder().addFunction(wasi.toHostFunctions()).build())
                .withMachineFactory(machine)
                .withStart(false)
                .build();
        instance.export("_start").apply();
      }
      return out.toByteArray();
    }
  }

  /** A CPU-bound loop in each of Chicory's engines, through a Sandbox. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Fork(1)
  @Warmup(iterations = 3, time = 2)
  @Measurement(iterations = 5, time = 2)
  public static class Engines {
    @Param({"COMPILER", "INTERPRETER"})
    public String engine;

    Path dir;
    Sandbox sandbox;
    List<String> argv;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      dir = Files.createTempDirectory("kavach-bench-wasm");
      argv = List.of(compile(dir, "loop", LOOP).toString());
      sandbox = sandbox(WasmOptions.builder().engine(WasmOptions.Engine.valueOf(engine)).build());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      sandbox.close();
      for (String f : List.of("loop.wat", "loop.wasm")) {
        Files.deleteIfExists(dir.resolve(f));
      }
      Files.deleteIfExists(dir);
    }

    @Benchmark
    public ExecResult loopOneMillion() {
      return sandbox.exec(ExecRequest.of(argv));
    }
  }

  /** An infinite loop with a 100 ms timeout: the time past 100 ms is how long a kill takes. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Fork(1)
  @Warmup(iterations = 1, time = 2)
  @Measurement(iterations = 3, time = 3)
  public static class Timeout {
    @Param({"COMPILER", "INTERPRETER"})
    public String engine;

    Path dir;
    Sandbox sandbox;
    ExecRequest request;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      dir = Files.createTempDirectory("kavach-bench-wasm");
      Path spin = compile(dir, "spin", SPIN);
      sandbox = sandbox(WasmOptions.builder().engine(WasmOptions.Engine.valueOf(engine)).build());
      request = ExecRequest.builder(spin.toString()).timeout(Duration.ofMillis(100)).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      sandbox.close();
      for (String f : List.of("spin.wat", "spin.wasm")) {
        Files.deleteIfExists(dir.resolve(f));
      }
      Files.deleteIfExists(dir);
    }

    @Benchmark
    public ExecResult spinUntilKilled() {
      ExecResult r = sandbox.exec(request);
      if (!r.timedOut()) {
        throw new IllegalStateException("the loop was not timed out: " + r);
      }
      return r;
    }
  }
}
