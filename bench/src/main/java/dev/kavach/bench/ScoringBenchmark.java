package dev.kavach.bench;

import dev.kavach.backend.Enforcement;
import dev.kavach.policy.SandboxPolicy;
import dev.kavach.scoring.Scoring;
import dev.kavach.scoring.StrengthScore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The Rust crate's scoring and policy benchmarks (score_backend_process_strict, policy_*). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScoringBenchmark {
  private final Enforcement strict =
      Enforcement.builder("process")
          .seccompProfile("strict")
          .networkIsolated(true)
          .readOnlyRoot(true)
          .memoryLimitBytes(512L << 20)
          .build();
  private final String strictJson = SandboxPolicy.strict().toJson();

  @Benchmark
  public StrengthScore scoreProcessStrict() {
    return Scoring.score(50, strict);
  }

  @Benchmark
  public SandboxPolicy policyStrictCreate() {
    return SandboxPolicy.strict();
  }

  @Benchmark
  public String policySerialize() {
    return SandboxPolicy.strict().toJson();
  }

  @Benchmark
  public SandboxPolicy policyDeserialize() {
    return SandboxPolicy.parse(strictJson);
  }
}
