package dev.kavach.audit;

import java.io.Closeable;
import java.nio.file.Path;

/**
 * Where audit events go. Sinks live outside the sandbox; a sandbox writes every lifecycle event to
 * each configured sink, in order.
 *
 * <pre>{@code
 * AuditSink sink = AuditSink.chained(Path.of("/var/log/kavach/audit.jsonl"), AuditKey.fromEnvironment());
 * SandboxConfig config = SandboxConfig.builder().auditSink(sink).build();
 * }</pre>
 */
public interface AuditSink extends Closeable {

  /**
   * Records one event. Must be safe to call from several threads.
   *
   * @throws dev.kavach.KavachException with reason {@code IO} if the event cannot be stored
   */
  void record(AuditEvent event);

  /** Releases the sink's resources; the default does nothing. */
  @Override
  default void close() {}

  /** A sink that discards everything. */
  static AuditSink none() {
    return event -> {};
  }

  /** A sink that keeps events in memory, for tests and inspection. */
  static MemoryAuditSink inMemory() {
    return new MemoryAuditSink();
  }

  /** A sink that appends one JSON object per line to a file (created 0600 if missing). */
  static AuditSink jsonLines(Path file) {
    return new JsonLinesAuditSink(file);
  }

  /**
   * A sink that appends to a tamper-evident HMAC-SHA256 chain in a file (created 0600 if missing;
   * an existing chain is verified first and continued). See {@link AuditChain}.
   */
  static ChainedAuditSink chained(Path file, AuditKey key) {
    return ChainedAuditSink.open(file, key);
  }
}
