package dev.kavach.bench;

import dev.kavach.backend.process.seccomp.Arch;
import dev.kavach.backend.process.seccomp.BpfInterpreter;
import dev.kavach.backend.process.seccomp.BpfProgram;
import dev.kavach.backend.process.seccomp.OciSeccomp;
import dev.kavach.backend.process.seccomp.SeccompCompiler;
import dev.kavach.backend.process.seccomp.SeccompData;
import dev.kavach.backend.process.seccomp.SeccompProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Seccomp: compiling the built-in profiles (the Rust crate's seccomp_build_basic and
 * seccomp_build_strict), exporting one as OCI JSON, and running a compiled program in the
 * interpreter for a common call (read) and a late one (futex_waitv, number 449) in the tree layout
 * against the linear layout, to show what the layout saves per system call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SeccompBenchmark {
  private final SeccompProfile minimal =
      SeccompProfile.parse(
          "{\"name\": \"minimal\", \"default\": {\"action\": \"allow\"}, \"syscalls\": []}",
          "bench");
  private final SeccompProfile basic = SeccompProfile.builtIn("basic");
  private final SeccompProfile strict = SeccompProfile.builtIn("strict");
  private final String strictJson = resource("strict.json");

  private static String resource(String name) {
    try (InputStream in =
        SeccompProfile.class.getResourceAsStream("/dev/kavach/backend/process/seccomp/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Baseline: a profile with no rules (only the architecture and x32 checks and the table's
   * known/unknown ranges), the fixed cost of every compile.
   */
  @Benchmark
  public BpfProgram compileMinimal() {
    return SeccompCompiler.compile(minimal, Arch.X86_64, true);
  }

  /** The parsed basic profile compiled for x86_64 with the network isolated. */
  @Benchmark
  public BpfProgram compileBasic() {
    return SeccompCompiler.compile(basic, Arch.X86_64, true);
  }

  /** The parsed strict profile compiled for x86_64 with the network isolated. */
  @Benchmark
  public BpfProgram compileStrict() {
    return SeccompCompiler.compile(strict, Arch.X86_64, true);
  }

  /** strict.json parsed and validated (its parent basic is already loaded), then compiled. */
  @Benchmark
  public BpfProgram parseAndCompileStrict() {
    return SeccompCompiler.compile(SeccompProfile.parse(strictJson, "bench"), Arch.X86_64, true);
  }

  /** strict as an OCI linux.seccomp tree. */
  @Benchmark
  public Object ociExportStrict() {
    return OciSeccomp.toTree(strict, Arch.X86_64, true);
  }

  /** One compiled program and one system call for {@link #interpret}. */
  @State(Scope.Benchmark)
  public static class Call {
    @Param({"basic", "strict"})
    public String profile;

    @Param({"TREE", "LINEAR"})
    public String layout;

    @Param({"read", "futex_waitv"})
    public String syscall;

    BpfInterpreter vm;
    SeccompData data;

    @Setup
    public void setUp() {
      BpfProgram p =
          SeccompCompiler.compile(
              SeccompProfile.builtIn(profile),
              Arch.X86_64,
              true,
              SeccompCompiler.Layout.valueOf(layout));
      vm = BpfInterpreter.of(p);
      data = SeccompData.of(Arch.X86_64, Arch.X86_64.syscalls().number(syscall).getAsInt());
      System.out.printf(
          "%n%s %s %s: %d instructions executed of %d%n",
          profile, layout, syscall, vm.execute(data).steps(), p.length());
    }
  }

  /** The filter's verdict on one system call, in the interpreter. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public int interpret(Call c) {
    return c.vm.run(c.data);
  }
}
