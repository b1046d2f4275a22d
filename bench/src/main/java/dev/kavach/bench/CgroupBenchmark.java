package dev.kavach.bench;

import dev.kavach.backend.process.cgroup.CgroupLimits;
import dev.kavach.backend.process.cgroup.ExecCgroup;
import dev.kavach.backend.process.cgroup.SandboxCgroup;
import dev.kavach.internal.host.HostProbe;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the process backend's cgroups cost (needs root and cgroupfs): a sandbox's group with the
 * strict preset's limits, created and destroyed once per sandbox, and an exec's child group,
 * created and destroyed once per exec. The baseline is a plain {@code /bin/true} spawn from the
 * same JVM, which every exec pays anyway.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class CgroupBenchmark {
  private static final CgroupLimits STRICT = new CgroupLimits(512L << 20, 1.0, 64);

  private final HostProbe host = HostProbe.system();
  private final String prefix = "kv-bench-" + ProcessHandle.current().pid() + "-";
  private SandboxCgroup sandbox;
  private long counter;

  @Setup(Level.Trial)
  public void setUp() {
    sandbox = SandboxCgroup.create(prefix + "s", STRICT, false, host);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    sandbox.destroy();
  }

  /** Baseline: spawn and wait for {@code /bin/true}. */
  @Benchmark
  public int spawnTrue() throws IOException, InterruptedException {
    return new ProcessBuilder("/bin/true").start().waitFor();
  }

  /** Per exec: mkdir of the child group in every hierarchy, then its removal. */
  @Benchmark
  public ExecCgroup execGroup() {
    ExecCgroup e = sandbox.newExec("e" + counter++);
    e.destroy();
    return e;
  }

  /** Per sandbox: the group with memory, swap, CPU and pids limits read back, then destroy. */
  @Benchmark
  public SandboxCgroup sandboxGroup() {
    SandboxCgroup s = SandboxCgroup.create(prefix + counter++, STRICT, false, host);
    s.destroy();
    return s;
  }
}
