package dev.kavach.bench;

import dev.kavach.scanning.ExternalizationGate;
import dev.kavach.scanning.ExternalizationPolicy;
import dev.kavach.scanning.Finding;
import dev.kavach.scanning.QuarantineStore;
import dev.kavach.scanning.SecretsScanner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Rust crate's scanning benchmarks ({@code secrets_scan_clean_text}, {@code
 * secrets_scan_with_secrets}, {@code secrets_redact}, {@code gate_clean_output}) on the same inputs
 * (copied from its {@code benches/sandbox.rs}), plus 64 KiB of mixed log output.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScanningBenchmark {
  static final String CLEAN =
      "This is a perfectly normal log output with no secrets whatsoever. "
          + "Status: OK. Temperature: 72F. Users: 1,234. Uptime: 99.9%.";
  static final String DIRTY =
      "Config: AKIAIOSFODNN7EXAMPLE and ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij "
          + "postgres://user:pass@localhost/db password='hunter2hunter2'";
  static final String REDACT =
      "key: AKIAIOSFODNN7EXAMPLE and token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij";
  static final String GATE = "hello world\nstatus: ok\n".repeat(100);

  private final SecretsScanner scanner = SecretsScanner.create();
  private final byte[] clean = CLEAN.getBytes(StandardCharsets.UTF_8);
  private final byte[] dirty = DIRTY.getBytes(StandardCharsets.UTF_8);
  private final byte[] gate = GATE.getBytes(StandardCharsets.UTF_8);
  private final byte[] empty = new byte[0];
  private final ExternalizationGate.Origin origin =
      new ExternalizationGate.Origin("kv-000000000000", null, "kv-000000000000-1");
  private final List<byte[]> injected =
      List.of(
          "tok-7f3a9c1e55b2d4e8".getBytes(StandardCharsets.UTF_8),
          "correct horse battery staple".getBytes(StandardCharsets.UTF_8),
          "s3cr3t/Value+with=symbols".getBytes(StandardCharsets.UTF_8));
  private ExternalizationGate defaultGate;
  private byte[] mixed;
  private String mixedText;
  private final List<com.google.re2j.Pattern> re2j = new java.util.ArrayList<>();

  @Setup
  public void setup() {
    // Never written to: nothing in these inputs reaches quarantine.
    Path quarantine = Path.of(System.getProperty("java.io.tmpdir"), "kavach-bench-quarantine");
    defaultGate =
        new ExternalizationGate(ExternalizationPolicy.defaults(), QuarantineStore.at(quarantine));
    mixed = mixedOutput(64 * 1024);
    mixedText = new String(mixed, StandardCharsets.UTF_8);
    for (int i = 0; i < 17; i++) {
      re2j.add(com.google.re2j.Pattern.compile(SecretsScanner.rules().get(i).pattern()));
    }
  }

  /** Every match of the 17 Rust regexes on re2j: the baseline a regex engine gives. */
  private int re2jScan(String text) {
    int n = 0;
    for (com.google.re2j.Pattern p : re2j) {
      com.google.re2j.Matcher m = p.matcher(text);
      while (m.find()) {
        n++;
      }
    }
    return n;
  }

  @Benchmark
  public int re2jClean() {
    return re2jScan(CLEAN);
  }

  @Benchmark
  public int re2jGateText() {
    return re2jScan(GATE);
  }

  @Benchmark
  public int re2jMixed64k() {
    return re2jScan(mixedText);
  }

  /**
   * 64 KiB of what a build or test run prints: timestamps, paths, JSON, UUIDs, hashes, base64
   * blobs, URLs, some email addresses (Low: the gate warns and redacts them), no critical secret.
   */
  static byte[] mixedOutput(int size) {
    Random r = new Random(42);
    StringBuilder b = new StringBuilder(size + 256);
    String[] words = {
      "compiling", "module", "ok", "warning:", "unused", "variable", "test", "passed"
    };
    while (b.length() < size) {
      switch (r.nextInt(8)) {
        case 0 ->
            b.append("2026-11-30T10:")
                .append(10 + r.nextInt(50))
                .append(":00Z INFO request id=")
                .append(java.util.UUID.nameUUIDFromBytes(new byte[] {(byte) r.nextInt()}))
                .append(" path=/api/v1/items/")
                .append(r.nextInt(100000))
                .append(" status=200 took=")
                .append(r.nextInt(900))
                .append("ms\n");
        case 1 ->
            b.append("{\"user\":\"u")
                .append(r.nextInt(1000))
                .append("\",\"email\":\"dev")
                .append(r.nextInt(100))
                .append("@example.com\",\"roles\":[\"read\",\"write\"],\"count\":")
                .append(r.nextInt(100))
                .append("}\n");
        case 2 -> {
          byte[] blob = new byte[48];
          r.nextBytes(blob);
          b.append("sha256=")
              .append(java.util.HexFormat.of().formatHex(blob, 0, 32))
              .append(" size=")
              .append(r.nextInt(1 << 20))
              .append('\n');
        }
        case 3 ->
            b.append("  at dev.kavach.example.Service.handle(Service.java:")
                .append(r.nextInt(500))
                .append(")\n");
        case 4 ->
            b.append("GET https://cdn.example.org/assets/app-")
                .append(r.nextInt(99999))
                .append(".js 200 OK\n");
        default -> {
          for (int i = 0; i < 8; i++) {
            b.append(words[r.nextInt(words.length)]).append(' ');
          }
          b.append('\n');
        }
      }
    }
    return b.substring(0, size).getBytes(StandardCharsets.UTF_8);
  }

  @Benchmark
  public List<Finding> scanClean() {
    return scanner.scan(clean, "stdout");
  }

  @Benchmark
  public List<Finding> scanCleanString() {
    return scanner.scan(CLEAN);
  }

  @Benchmark
  public List<Finding> scanDirty() {
    return scanner.scan(dirty, "stdout");
  }

  @Benchmark
  public List<Finding> scanDirtyString() {
    return scanner.scan(DIRTY);
  }

  @Benchmark
  public String redact() {
    return scanner.redact(REDACT);
  }

  @Benchmark
  public ExternalizationGate.Decision gateClean() {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("stdout", gate);
    parts.put("stderr", empty);
    return defaultGate.review(parts, scanner, origin);
  }

  @Benchmark
  public List<Finding> scanMixed64k() {
    return scanner.scan(mixed, "stdout");
  }

  @Benchmark
  public ExternalizationGate.Decision gateMixed64k() {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("stdout", mixed);
    parts.put("stderr", empty);
    return defaultGate.review(parts, scanner, origin);
  }

  /**
   * As {@link #gateMixed64k}, building a scanner for three injected secrets first, as each exec
   * does.
   */
  @Benchmark
  public ExternalizationGate.Decision gateMixed64kWithSecrets() {
    SecretsScanner.Builder b = SecretsScanner.builder();
    for (int i = 0; i < injected.size(); i++) {
      b.secret("s" + i, injected.get(i));
    }
    try (SecretsScanner withSecrets = b.build()) {
      Map<String, byte[]> parts = new LinkedHashMap<>();
      parts.put("stdout", mixed);
      parts.put("stderr", empty);
      return defaultGate.review(parts, withSecrets, origin);
    }
  }
}
