package dev.kavach.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.KavachException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditChainTest {
  private static final String HEX_KEY =
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  private static final String OTHER_KEY =
      "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

  @TempDir Path dir;
  private Path log;
  private final AuditKey key = AuditKey.fromHex(HEX_KEY, "test key");
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-30T10:00:00Z"), ZoneOffset.UTC);
  private AuditChain.Head headAfterWrite;

  private static AuditEvent event(AuditEvent.Type type, int n) {
    return new AuditEvent(
        Instant.parse("2026-11-30T09:59:59Z"), "kv-000000000001", null, type, Map.of("n", n));
  }

  @BeforeEach
  void writeFiveLines() {
    log = dir.resolve("audit.jsonl");
    try (ChainedAuditSink sink = ChainedAuditSink.open(log, key, clock, null)) {
      sink.record(event(AuditEvent.Type.CREATED, 1));
      sink.record(event(AuditEvent.Type.STARTED, 2));
      sink.record(event(AuditEvent.Type.EXEC_START, 3));
      sink.record(event(AuditEvent.Type.EXEC_END, 4));
      sink.record(event(AuditEvent.Type.DESTROYED, 5));
      headAfterWrite = sink.head();
    }
  }

  private List<String> lines() throws Exception {
    return new ArrayList<>(Files.readAllLines(log, StandardCharsets.UTF_8));
  }

  private void write(List<String> lines) throws Exception {
    Files.writeString(log, String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"));
  }

  private AuditChain.Verification verify() {
    return AuditChain.verify(log, key);
  }

  @Test
  void anUntouchedChainIsIntactAndEndsAtTheSinksHead() throws Exception {
    AuditChain.Verification v = verify();
    assertThat(v.intact()).isTrue();
    assertThat(v.lines()).isEqualTo(5);
    assertThat(v.head()).isEqualTo(headAfterWrite);
    assertThat(v.head().serial()).isEqualTo(5);
    assertThat(AuditChain.verify(log, key, headAfterWrite).intact()).isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(log)))
        .isEqualTo("rw-------");
  }

  @Test
  void eachLineHasSerialTimeEventPrevAndMac() throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<String> lines = lines();
    String prev = AuditChain.GENESIS;
    for (int i = 0; i < lines.size(); i++) {
      JsonNode n = json.readTree(lines.get(i));
      assertThat(n.get("serial").asLong()).isEqualTo(i + 1);
      assertThat(n.get("time").asText()).isEqualTo("2026-11-30T10:00:00Z");
      assertThat(n.get("event").get("details").get("n").asInt()).isEqualTo(i + 1);
      assertThat(n.get("prev").asText()).isEqualTo(prev);
      assertThat(n.get("mac").asText()).matches("[0-9a-f]{64}");
      prev = n.get("mac").asText();
    }
  }

  @Test
  void aModifiedLineIsDetected() throws Exception {
    List<String> lines = lines();
    lines.set(2, lines.get(2).replace("\"n\":3", "\"n\":4"));
    write(lines);
    AuditChain.Verification v = verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.brokenLine()).isEqualTo(3);
    assertThat(v.problem()).contains("MAC mismatch");
    assertThat(v.lines()).isEqualTo(2);
  }

  @Test
  void aWhitespaceOnlyEditIsDetected() throws Exception {
    List<String> lines = lines();
    lines.set(1, lines.get(1).replace("{\"serial\":2,", "{\"serial\": 2,"));
    write(lines);
    assertThat(verify().brokenLine()).isEqualTo(2);
  }

  @Test
  void aDeletedLineIsDetected() throws Exception {
    List<String> lines = lines();
    lines.remove(1);
    write(lines);
    AuditChain.Verification v = verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.brokenLine()).isEqualTo(2);
    assertThat(v.problem()).contains("deleted, inserted or reordered");
  }

  @Test
  void aDuplicatedOrInsertedLineIsDetected() throws Exception {
    List<String> lines = lines();
    lines.add(3, lines.get(1));
    write(lines);
    assertThat(verify().brokenLine()).isEqualTo(4);
    // A line forged with another key, even with the right serial and prev.
    Path other = dir.resolve("other.jsonl");
    try (ChainedAuditSink forger = ChainedAuditSink.open(other, AuditKey.fromHex(OTHER_KEY, "k"))) {
      forger.record(event(AuditEvent.Type.CREATED, 99));
    }
    List<String> forged = lines();
    forged.remove(3);
    forged.add(0, Files.readAllLines(other).get(0));
    write(forged);
    assertThat(verify().brokenLine()).isEqualTo(1);
    assertThat(verify().problem()).contains("MAC mismatch");
  }

  @Test
  void reorderedLinesAreDetected() throws Exception {
    List<String> lines = lines();
    Collections.swap(lines, 2, 3);
    write(lines);
    AuditChain.Verification v = verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.brokenLine()).isEqualTo(3);
  }

  @Test
  void aRemovedPrefixIsDetected() throws Exception {
    List<String> lines = lines();
    lines.remove(0);
    write(lines);
    assertThat(verify().brokenLine()).isEqualTo(1);
  }

  @Test
  void aTruncatedTailIsDetectedOnlyWithTheHead() throws Exception {
    List<String> lines = lines();
    lines.remove(4);
    lines.remove(3);
    write(lines);
    assertThat(verify().intact()).as("a shorter chain is a valid chain").isTrue();
    AuditChain.Verification v = AuditChain.verify(log, key, headAfterWrite);
    assertThat(v.intact()).isFalse();
    assertThat(v.brokenLine()).isEqualTo(4);
    assertThat(v.problem()).contains("ends at serial 3 but the head says 5");
    // Emptying the file entirely, too.
    write(List.of());
    assertThat(AuditChain.verify(log, key, headAfterWrite).intact()).isFalse();
  }

  @Test
  void aTailRewrittenBySomeoneWithTheKeyFailsTheHead() throws Exception {
    List<String> lines = lines();
    write(lines.subList(0, 3));
    try (ChainedAuditSink rewriter = ChainedAuditSink.open(log, key, clock, null)) {
      rewriter.record(event(AuditEvent.Type.EXEC_END, 40));
      rewriter.record(event(AuditEvent.Type.DESTROYED, 50));
    }
    assertThat(verify().intact()).isTrue();
    AuditChain.Verification v = AuditChain.verify(log, key, headAfterWrite);
    assertThat(v.intact()).isFalse();
    assertThat(v.problem()).contains("another MAC than the head");
  }

  @Test
  void theWrongKeyFailsAtTheFirstLine() {
    AuditChain.Verification v = AuditChain.verify(log, AuditKey.fromHex(OTHER_KEY, "k"));
    assertThat(v.intact()).isFalse();
    assertThat(v.brokenLine()).isEqualTo(1);
  }

  @Test
  void anIncompleteLastLineIsReported() throws Exception {
    String content = Files.readString(log);
    Files.writeString(log, content.substring(0, content.length() - 10));
    AuditChain.Verification v = verify();
    assertThat(v.brokenLine()).isEqualTo(5);
  }

  @Test
  void reopeningContinuesTheChain() {
    try (ChainedAuditSink sink = ChainedAuditSink.open(log, key, clock, headAfterWrite)) {
      assertThat(sink.head()).isEqualTo(headAfterWrite);
      sink.record(event(AuditEvent.Type.CREATED, 6));
      assertThat(sink.head().serial()).isEqualTo(6);
    }
    assertThat(verify().intact()).isTrue();
    assertThat(verify().lines()).isEqualTo(6);
  }

  @Test
  void aBrokenChainIsNeverExtended() throws Exception {
    List<String> lines = lines();
    lines.remove(2);
    write(lines);
    long before = Files.size(log);
    assertThatThrownBy(() -> ChainedAuditSink.open(log, key))
        .isInstanceOf(KavachException.class)
        .hasMessageContaining("is broken at line 3")
        .hasMessageContaining("refusing to append");
    assertThat(Files.size(log)).isEqualTo(before);
  }

  @Test
  void openingWithAHeadTheFileNoLongerReachesIsRefused() throws Exception {
    List<String> lines = lines();
    write(lines.subList(0, 4));
    assertThatThrownBy(() -> ChainedAuditSink.open(log, key, clock, headAfterWrite))
        .hasMessageContaining("lines were removed from the end");
  }

  @Test
  void linesAppendedByAnotherWriterAreVerifiedAndChainedOnto() throws Exception {
    try (ChainedAuditSink a = ChainedAuditSink.open(log, key)) {
      try (ChainedAuditSink b = ChainedAuditSink.open(log, key)) {
        b.record(event(AuditEvent.Type.CREATED, 6));
      }
      a.record(event(AuditEvent.Type.CREATED, 7));
      assertThat(a.head().serial()).isEqualTo(7);
    }
    assertThat(verify().intact()).isTrue();
    assertThat(verify().lines()).isEqualTo(7);
  }

  @Test
  void lineAppendedByAnotherWriterWithTheWrongKeyStopsTheSink() throws Exception {
    try (ChainedAuditSink a = ChainedAuditSink.open(log, key)) {
      Files.writeString(log, lines().get(0) + "\n", java.nio.file.StandardOpenOption.APPEND);
      assertThatThrownBy(() -> a.record(event(AuditEvent.Type.CREATED, 6)))
          .hasMessageContaining("is broken at line 6");
    }
  }

  @Test
  void headsParseAndPrintAsSerialColonMac() {
    AuditChain.Head h = AuditChain.Head.parse("5:" + "ab".repeat(32));
    assertThat(h.serial()).isEqualTo(5);
    assertThat(h.toString()).isEqualTo("5:" + "ab".repeat(32));
    assertThatThrownBy(() -> AuditChain.Head.parse("5")).hasMessageContaining("SERIAL:MAC");
    assertThatThrownBy(() -> AuditChain.Head.parse("x:" + "ab".repeat(32)))
        .hasMessageContaining("SERIAL:MAC");
    assertThatThrownBy(() -> AuditChain.Head.parse("5:ABCD")).hasMessageContaining("SERIAL:MAC");
  }

  @Test
  void keysMustBeLongHexAndNeverPrint() {
    assertThatThrownBy(() -> AuditKey.fromHex("abcd", "KAVACH_AUDIT_KEY"))
        .hasMessageContaining("KAVACH_AUDIT_KEY must be at least 64 hex digits")
        .hasMessageNotContaining("abcd");
    assertThatThrownBy(() -> AuditKey.fromHex("g".repeat(64), "k")).hasMessageContaining("hex");
    assertThatThrownBy(() -> AuditKey.fromHex("a".repeat(65), "k")).hasMessageContaining("even");
    assertThatThrownBy(() -> AuditKey.of(new byte[31])).hasMessageContaining("at least 32");
    assertThat(key.toString()).isEqualTo("AuditKey[256 bits]");
    AuditKey k = AuditKey.fromHex(HEX_KEY + "\n", "file");
    k.destroy();
    assertThatThrownBy(() -> ChainedAuditSink.open(dir.resolve("x.jsonl"), k))
        .hasMessageContaining("destroyed");
  }

  @Test
  void keysAreReadFromAFile() throws Exception {
    Path f = Files.writeString(dir.resolve("key"), HEX_KEY + "\n");
    AuditKey k = AuditKey.fromFile(f);
    assertThat(AuditChain.verify(log, k).intact()).isTrue();
  }
}
