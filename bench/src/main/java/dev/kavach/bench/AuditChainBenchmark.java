package dev.kavach.bench;

import dev.kavach.audit.AuditEvent;
import dev.kavach.audit.AuditKey;
import dev.kavach.audit.ChainedAuditSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
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
 * One audit event appended to an HMAC chain on tmpfs (lock, size check, HMAC-SHA256, positional
 * write), against a plain JSON serialisation of the same event as the baseline. Cyrius 3.0 reports
 * {@code audit_chain_record_to_tmpfs} at 32-87 us.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AuditChainBenchmark {
  private final AuditEvent event =
      new AuditEvent(
          Instant.parse("2026-11-30T10:00:00Z"),
          "kv-000000000001",
          "agent-1",
          AuditEvent.Type.EXEC_END,
          Map.of("exec_id", "kv-000000000001-1", "exit_code", 0, "duration_ms", 3));
  private Path dir;
  private ChainedAuditSink sink;

  @Setup(Level.Iteration)
  public void open() throws IOException {
    dir = Files.createTempDirectory(Path.of("/dev/shm"), "kavach-bench-audit-");
    sink = ChainedAuditSink.open(dir.resolve("audit.jsonl"), AuditKey.of(new byte[32]));
  }

  @TearDown(Level.Iteration)
  public void close() throws IOException {
    sink.close();
    Files.deleteIfExists(dir.resolve("audit.jsonl"));
    Files.deleteIfExists(dir);
  }

  @Benchmark
  public void chainedRecordToTmpfs() {
    sink.record(event);
  }

  @Benchmark
  public String eventToJson() {
    return event.toJson();
  }
}
