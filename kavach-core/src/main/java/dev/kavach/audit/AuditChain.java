package dev.kavach.audit;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kavach.KavachException;
import dev.kavach.KavachException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import org.jspecify.annotations.Nullable;

/**
 * The tamper-evident audit log format, and its verifier.
 *
 * <p>One JSON object per line:
 *
 * <pre>
 * {"serial":1,"time":"2026-11-30T10:00:00Z","event":{...},"prev":"000...0","mac":"3f9a..."}
 * </pre>
 *
 * <p>{@code serial} counts from 1; {@code time} is when the line was written; {@code event} is the
 * {@link AuditEvent} JSON; {@code prev} is the previous line's {@code mac} (64 zeros on the first
 * line); {@code mac} is the lower-case hex HMAC-SHA256, under the chain's {@link AuditKey}, of the
 * exact UTF-8 bytes of the line before {@code ,"mac"}. So the MAC covers serial, time, event and
 * the previous MAC byte for byte, and no canonical re-serialisation is needed to check it (the Rust
 * crate's 1.0 format hashed a re-sorted JSON instead; byte-exact is simpler and also catches
 * whitespace edits).
 *
 * <p>What verification detects: a modified line (its MAC fails), a deleted, inserted or reordered
 * line (the next line's {@code prev} or {@code serial} no longer follows), a line forged without
 * the key (MAC), a removed prefix (the first line's {@code prev} is not zeros). What it cannot
 * detect alone: lines removed from the end, since the shorter file is a valid chain. For that,
 * store the {@link Head} (last serial and MAC) somewhere the writer of the log cannot change, and
 * pass it to {@link #verify(Path, AuditKey, Head)}.
 *
 * <pre>{@code
 * AuditChain.Verification v = AuditChain.verify(Path.of("audit.jsonl"), key, storedHead);
 * if (!v.intact()) System.err.println("line " + v.brokenLine() + ": " + v.problem());
 * }</pre>
 */
public final class AuditChain {
  /** The {@code prev} of the first line. */
  public static final String GENESIS = "0".repeat(64);

  private static final String MAC_FIELD = ",\"mac\":\"";
  private static final int SUFFIX = MAC_FIELD.length() + 64 + 2;
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private AuditChain() {}

  /**
   * The end of a chain: the last line's serial and MAC. Written {@code SERIAL:MAC}.
   *
   * @param serial serial of the last line, 0 for an empty chain
   * @param mac its MAC in lower-case hex, {@link #GENESIS} for an empty chain
   */
  public record Head(long serial, String mac) {
    /** Validates. */
    public Head {
      Objects.requireNonNull(mac, "mac");
      if (serial < 0 || !HEX64.matcher(mac).matches()) {
        throw new IllegalArgumentException(
            "audit head must be SERIAL:MAC with 64 lower-case hex digits");
      }
    }

    /** The head of an empty chain. */
    public static Head empty() {
      return new Head(0, GENESIS);
    }

    /**
     * Parses {@code SERIAL:MAC}.
     *
     * @throws KavachException with reason {@code POLICY_INVALID} if malformed
     */
    public static Head parse(String text) {
      int colon = text.indexOf(':');
      try {
        return new Head(
            Long.parseLong(text.substring(0, colon)), text.substring(colon + 1).strip());
      } catch (RuntimeException e) {
        throw new KavachException(
            Reason.POLICY_INVALID,
            "audit head (\"" + text + "\") must be SERIAL:MAC with 64 lower-case hex digits");
      }
    }

    /** {@code SERIAL:MAC}. */
    @Override
    public String toString() {
      return serial + ":" + mac;
    }
  }

  /**
   * The outcome of a verification.
   *
   * @param intact whether every line checked out (and the expected head, if given, was found)
   * @param lines how many lines were verified good
   * @param head the last good line's serial and MAC
   * @param brokenLine the 1-based line number of the first problem, 0 when intact
   * @param problem what is wrong, empty when intact
   */
  public record Verification(
      boolean intact, long lines, Head head, long brokenLine, String problem) {}

  /** Verifies the whole file. */
  public static Verification verify(Path file, AuditKey key) {
    return verify(file, key, null);
  }

  /**
   * Verifies the whole file and, with {@code expected}, that the chain still reaches that head
   * (nothing was cut from the end). A chain that continues past the head is intact.
   *
   * @throws KavachException with reason {@code IO} if the file cannot be read
   */
  public static Verification verify(Path file, AuditKey key, @Nullable Head expected) {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new KavachException(Reason.IO, "cannot read audit log " + file + ": " + e, e);
    }
    return verify(content, expected, key.newMac());
  }

  /** Verifies a whole chain held in memory, and that it reaches {@code expected} if given. */
  static Verification verify(byte[] content, @Nullable Head expected, Mac mac) {
    Verification v = verify(content, 0, Head.empty(), mac);
    if (!v.intact() || expected == null) {
      return v;
    }
    if (v.head().serial() < expected.serial()) {
      return new Verification(
          false,
          v.lines(),
          v.head(),
          v.lines() + 1,
          "the chain ends at serial "
              + v.head().serial()
              + " but the head says "
              + expected.serial()
              + ": lines were removed from the end");
    }
    // Serial n is on line n of an intact chain.
    String found = macOfLine(content, expected.serial());
    if (!MessageDigest.isEqual(ascii(found), ascii(expected.mac()))) {
      return new Verification(
          false,
          v.lines(),
          v.head(),
          Math.max(1, expected.serial()),
          "serial "
              + expected.serial()
              + " has another MAC than the head: the log was rewritten from there on");
    }
    return v;
  }

  private static String macOfLine(byte[] content, long lineNo) {
    if (lineNo == 0) {
      return GENESIS;
    }
    long seen = 0;
    for (int i = 0; i < content.length; i++) {
      if (content[i] == '\n' && ++seen == lineNo) {
        return new String(content, i - 66, 64, StandardCharsets.US_ASCII);
      }
    }
    return "";
  }

  /**
   * Verifies the lines in {@code content[from..]} as the continuation of a chain at {@code start};
   * line numbers in the result count from the start of {@code content}.
   */
  static Verification verify(byte[] content, int from, Head start, Mac mac) {
    Head head = start;
    long lineNo = countLines(content, from);
    long good = 0;
    int pos = from;
    while (pos < content.length) {
      int nl = indexOf(content, (byte) '\n', pos);
      lineNo++;
      if (nl < 0) {
        return broken(good, head, lineNo, "the last line is incomplete (no newline)");
      }
      String problem = checkLine(content, pos, nl, head, mac);
      if (problem != null) {
        return broken(good, head, lineNo, problem);
      }
      head =
          new Head(head.serial() + 1, new String(content, nl - 66, 64, StandardCharsets.US_ASCII));
      good++;
      pos = nl + 1;
    }
    return new Verification(true, good, head, 0, "");
  }

  /** Why the line {@code content[s..e)} does not follow {@code prev}, or null if it does. */
  private static @Nullable String checkLine(byte[] content, int s, int e, Head prev, Mac mac) {
    int len = e - s;
    if (len < SUFFIX + 2
        || !endsWith(content, e - SUFFIX, MAC_FIELD)
        || content[e - 2] != '"'
        || content[e - 1] != '}') {
      return "not a chain entry (no trailing \"mac\" field)";
    }
    String given = new String(content, e - 66, 64, StandardCharsets.US_ASCII);
    if (!HEX64.matcher(given).matches()) {
      return "the mac is not 64 lower-case hex digits";
    }
    int bodyEnd = e - SUFFIX;
    mac.update(content, s, bodyEnd - s);
    byte[] computed = mac.doFinal();
    if (!MessageDigest.isEqual(computed, HexFormat.of().parseHex(given))) {
      return "MAC mismatch: the line was modified, or written with another key";
    }
    JsonNode body;
    try {
      String text = new String(content, s, bodyEnd - s, StandardCharsets.UTF_8) + "}";
      body = STRICT.readTree(text);
    } catch (IOException ex) {
      return "authentic MAC but unparseable JSON";
    }
    if (!body.isObject() || !hasExactly(body, "serial", "time", "event", "prev")) {
      return "entry must have exactly serial, time, event, prev and mac";
    }
    if (!body.get("serial").canConvertToLong()
        || body.get("serial").asLong() != prev.serial() + 1) {
      return "serial "
          + body.get("serial")
          + " does not follow "
          + prev.serial()
          + ": a line was deleted, inserted or reordered";
    }
    if (!MessageDigest.isEqual(ascii(body.get("prev").asText()), ascii(prev.mac()))) {
      return "prev does not match the MAC of the line before: a line was deleted, inserted or"
          + " reordered";
    }
    try {
      Instant.parse(body.get("time").asText());
    } catch (RuntimeException ex) {
      return "time is not an ISO-8601 instant";
    }
    if (!body.get("event").isObject()) {
      return "event is not an object";
    }
    return null;
  }

  /** The line for an event: everything but the MAC, then the MAC over it. */
  static byte[] line(long serial, Instant time, AuditEvent event, String prev, Mac mac) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"serial\":")
        .append(serial)
        .append(",\"time\":\"")
        .append(time)
        .append("\",\"event\":")
        .append(event.toJson())
        .append(",\"prev\":\"")
        .append(prev)
        .append('"');
    byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
    String m = HexFormat.of().formatHex(mac.doFinal(body));
    byte[] tail = (MAC_FIELD + m + "\"}\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[body.length + tail.length];
    System.arraycopy(body, 0, out, 0, body.length);
    System.arraycopy(tail, 0, out, body.length, tail.length);
    return out;
  }

  /** The MAC written in a line produced by {@link #line}. */
  static String macOf(byte[] line) {
    return new String(line, line.length - 67, 64, StandardCharsets.US_ASCII);
  }

  private static boolean hasExactly(JsonNode n, String... names) {
    if (n.size() != names.length) {
      return false;
    }
    for (String name : names) {
      if (!n.has(name)) {
        return false;
      }
    }
    return true;
  }

  private static Verification broken(long good, Head head, long line, String problem) {
    return new Verification(false, good, head, line, problem);
  }

  private static long countLines(byte[] content, int to) {
    long n = 0;
    for (int i = 0; i < to; i++) {
      if (content[i] == '\n') {
        n++;
      }
    }
    return n;
  }

  private static int indexOf(byte[] a, byte c, int from) {
    for (int i = from; i < a.length; i++) {
      if (a[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static boolean endsWith(byte[] a, int at, String ascii) {
    for (int i = 0; i < ascii.length(); i++) {
      if (a[at + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
