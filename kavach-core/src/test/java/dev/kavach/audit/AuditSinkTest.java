package dev.kavach.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditSinkTest {
  private static final Instant T = Instant.parse("2026-11-30T10:00:00Z");

  @Test
  void jsonLinesAppendsOneObjectPerLineInAPrivateFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("audit.jsonl");
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("exit_code", 3);
    details.put("program", "sh \"quoted\"\nnewline");
    try (AuditSink sink = AuditSink.jsonLines(file)) {
      sink.record(new AuditEvent(T, "kv-1", "agent", AuditEvent.Type.EXEC_END, details));
      sink.record(new AuditEvent(T, "kv-1", null, AuditEvent.Type.DESTROYED, Map.of()));
    }
    try (AuditSink sink = AuditSink.jsonLines(file)) {
      sink.record(new AuditEvent(T, "kv-2", null, AuditEvent.Type.CREATED, Map.of()));
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    JsonNode first = new ObjectMapper().readTree(lines.get(0));
    assertThat(first.get("type").asText()).isEqualTo("exec.end");
    assertThat(first.get("time").asText()).isEqualTo("2026-11-30T10:00:00Z");
    assertThat(first.get("agent_id").asText()).isEqualTo("agent");
    assertThat(first.get("details").get("exit_code").asInt()).isEqualTo(3);
    assertThat(first.get("details").get("program").asText()).isEqualTo("sh \"quoted\"\nnewline");
    assertThat(new ObjectMapper().readTree(lines.get(1)).get("agent_id").isNull()).isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
  }

  @Test
  void memorySinkKeepsOrder() {
    MemoryAuditSink sink = AuditSink.inMemory();
    sink.record(new AuditEvent(T, "a", null, AuditEvent.Type.CREATED, Map.of()));
    sink.record(new AuditEvent(T, "a", null, AuditEvent.Type.STARTED, Map.of()));
    assertThat(sink.types()).containsExactly("created", "started");
  }
}
