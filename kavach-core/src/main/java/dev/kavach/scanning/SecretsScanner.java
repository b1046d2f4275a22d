package dev.kavach.scanning;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Finds secrets in output: the Rust crate's 17 patterns (same names, categories and severities),
 * its later Shannon-entropy rule, and the exact values of secrets the caller knows about (those
 * injected into the sandbox) with their base64, hex and URL-encoded forms.
 *
 * <pre>{@code
 * try (SecretsScanner scanner = SecretsScanner.builder().secret("db", password).build()) {
 *   List<Finding> findings = scanner.scan(output, "stdout");
 *   byte[] clean = scanner.redact(output);
 * }
 * }</pre>
 *
 * <p>Differences from the Rust crate, on purpose:
 *
 * <ul>
 *   <li>Every match is reported, not the first per pattern.
 *   <li>Matching takes time linear in the output, whatever it contains (no backtracking regex); see
 *       {@code PatternMatcher}.
 *   <li>Evidence is UTF-8 safe and masked: the first and last 4 characters around {@code ****},
 *       fewer for short matches so that at most half of a match is shown; control and bidi
 *       characters become {@code ?}. Findings on a known secret never show any of it.
 *   <li>The SSN pattern only reports numbers that can be SSNs (see {@code
 *       PatternMatcher.plausibleSsn}); it stays Critical.
 *   <li>The entropy rule (Low) skips tokens that overlap another finding instead of running only
 *       when nothing else matched, so a high-entropy token next to an email is still reported.
 *   <li>Redaction replaces the union of overlapping matches, labelled by the earliest (then
 *       longest) one: the Rust crate skipped a later overlapping match and left its tail visible.
 * </ul>
 *
 * <p>Offsets in findings are byte offsets into the scanned bytes. A scanner that knows secrets
 * holds them in memory until {@link #close()}; one without secrets is immutable and thread-safe.
 */
public final class SecretsScanner implements AutoCloseable {

  /** Category of findings on a secret the scanner was given. */
  public static final String INJECTED_SECRET = "injected_secret";

  /** Category of findings of the entropy rule. */
  public static final String HIGH_ENTROPY = "high_entropy";

  /**
   * One detection rule.
   *
   * @param name display name, as in the Rust crate
   * @param category finding category
   * @param severity finding severity
   * @param pattern the Rust regex it implements, or a description for rules that are not regexes
   */
  public record Rule(String name, String category, Severity severity, String pattern) {}

  private static final List<Rule> RULES =
      List.of(
          rule("AWS Access Key", "cloud_credential", Severity.CRITICAL, "AKIA[0-9A-Z]{16}"),
          rule(
              "AWS Secret Key",
              "cloud_credential",
              Severity.CRITICAL,
              "(?i)aws.{0,20}secret.{0,20}['\"][0-9a-zA-Z/+]{40}['\"]"),
          rule("GCP API Key", "cloud_credential", Severity.HIGH, "AIza[0-9A-Za-z\\-_]{35}"),
          rule("GitHub Token", "api_token", Severity.CRITICAL, "gh[ps]_[A-Za-z0-9_]{36,}"),
          rule(
              "Stripe Secret Key",
              "api_token",
              Severity.CRITICAL,
              "sk_(live|test)_[0-9a-zA-Z]{24,}"),
          rule("Slack Token", "api_token", Severity.HIGH, "xox[bpas]-[0-9a-zA-Z\\-]{10,}"),
          rule(
              "Generic API Key",
              "api_key",
              Severity.MEDIUM,
              "(?i)(api[_-]?key|apikey)\\s*[:=]\\s*['\"][a-zA-Z0-9]{20,}['\"]"),
          rule(
              "Bearer Token",
              "auth_token",
              Severity.HIGH,
              "(?i)bearer\\s+[a-zA-Z0-9\\-._~+/]{20,}"),
          rule(
              "JWT",
              "auth_token",
              Severity.HIGH,
              "eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}"),
          rule(
              "RSA Private Key",
              "private_key",
              Severity.CRITICAL,
              "-----BEGIN RSA PRIVATE KEY-----"),
          rule(
              "EC Private Key", "private_key", Severity.CRITICAL, "-----BEGIN EC PRIVATE KEY-----"),
          rule(
              "OpenSSH Private Key",
              "private_key",
              Severity.CRITICAL,
              "-----BEGIN OPENSSH PRIVATE KEY-----"),
          rule(
              "Generic Private Key",
              "private_key",
              Severity.CRITICAL,
              "-----BEGIN PRIVATE KEY-----"),
          rule(
              "Password Assignment",
              "credential",
              Severity.HIGH,
              "(?i)(password|passwd|pwd)\\s*[:=]\\s*['\"][^'\"]{8,}['\"]"),
          rule(
              "Database Connection String",
              "connection_string",
              Severity.CRITICAL,
              "(?i)(postgres|mysql|mongodb|redis)://[^\\s]{10,}"),
          rule(
              "Email Address",
              "pii",
              Severity.LOW,
              "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}"),
          rule("SSN", "pii", Severity.CRITICAL, "\\b\\d{3}-\\d{2}-\\d{4}\\b"),
          rule(
              "High-Entropy String",
              HIGH_ENTROPY,
              Severity.LOW,
              "Shannon entropy > 4.5 bits on [A-Za-z0-9+/=_-]{20,}"),
          rule(
              "Injected Secret",
              INJECTED_SECRET,
              Severity.CRITICAL,
              "a known secret: raw, hex, base64, base64url or percent-encoded"));

  private static final int INJECTED = PatternMatcher.NAMED_RULES + 1;

  private static final byte[][] REDACTION_LABELS = redactionLabels();

  private final SecretMatcher secrets;
  private final boolean validateSsn;

  private SecretsScanner(SecretMatcher secrets, boolean validateSsn) {
    this.secrets = secrets;
    this.validateSsn = validateSsn;
  }

  /** A scanner with the patterns and the entropy rule, and no known secrets. */
  public static SecretsScanner create() {
    return builder().build();
  }

  /** A builder, to add known secrets. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The rules in reporting order: the 17 Rust patterns, then the entropy rule, then known secrets.
   */
  public static List<Rule> rules() {
    return RULES;
  }

  /** Every finding in {@code data}, ordered by offset; {@code stream} names where it came from. */
  public List<Finding> scan(byte[] data, String stream) {
    Objects.requireNonNull(stream, "stream");
    return findings(data, matches(data), stream);
  }

  /** Every finding in {@code text} (offsets into its UTF-8 encoding), stream {@code text}. */
  public List<Finding> scan(String text) {
    return scan(text.getBytes(StandardCharsets.UTF_8), "text");
  }

  /** A copy of {@code data} with every match replaced by {@code [REDACTED:<category>]}. */
  public byte[] redact(byte[] data) {
    Matches m = matches(data);
    return m.size() == 0 ? data.clone() : redact(data, m);
  }

  /** {@code text} with every match replaced by {@code [REDACTED:<category>]}. */
  public String redact(String text) {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    Matches m = matches(data);
    return m.size() == 0 ? text : new String(redact(data, m), StandardCharsets.UTF_8);
  }

  /** Forgets the known secrets (zeroes the memory derived from them). */
  @Override
  public void close() {
    secrets.close();
  }

  /** Names the known secrets, never their values. */
  @Override
  public String toString() {
    return "SecretsScanner[" + secrets + "]";
  }

  // ---- shared with the gate ----

  /**
   * Every match, resolved: known secrets deduplicated, entropy tokens inside other matches dropped.
   */
  Matches matches(byte[] data) {
    Matches raw = new Matches();
    PatternMatcher.scan(data, data.length, raw, validateSsn);
    secrets.scan(data, data.length, raw, INJECTED);
    if (raw.size() == 0) {
      return raw;
    }
    return resolve(raw);
  }

  private static Matches resolve(Matches raw) {
    int[] order = raw.sortedOrder();
    Matches out = new Matches();
    // Known secrets: leftmost, then longest; a form inside another occurrence is the same leak.
    int injectedEnd = -1;
    List<int[]> covered = new ArrayList<>();
    for (int i : order) {
      int r = raw.rule(i);
      if (r == INJECTED) {
        if (raw.start(i) >= injectedEnd) {
          out.add(raw.start(i), raw.end(i), r, raw.aux(i));
          injectedEnd = raw.end(i);
          covered.add(new int[] {raw.start(i), raw.end(i)});
        }
      } else if (r < PatternMatcher.NAMED_RULES) {
        covered.add(new int[] {raw.start(i), raw.end(i)});
      }
    }
    Spans named = new Spans(covered);
    for (int i : order) {
      int r = raw.rule(i);
      if (r < PatternMatcher.NAMED_RULES
          || (r == PatternMatcher.ENTROPY && !named.overlaps(raw.start(i), raw.end(i)))) {
        out.add(raw.start(i), raw.end(i), r, raw.aux(i));
      }
    }
    return out;
  }

  List<Finding> findings(byte[] data, Matches m, String stream) {
    if (m.size() == 0) {
      return List.of();
    }
    List<int[]> injected = new ArrayList<>();
    for (int i = 0; i < m.size(); i++) {
      if (m.rule(i) == INJECTED) {
        injected.add(new int[] {m.start(i), m.end(i)});
      }
    }
    Spans known = new Spans(injected);
    List<Finding> out = new ArrayList<>(m.size());
    for (int i : m.sortedOrder()) {
      Rule rule = RULES.get(m.rule(i));
      String message;
      String evidence;
      if (m.rule(i) == INJECTED) {
        String name = secrets.secretName(m.aux(i));
        message =
            "Injected secret " + name + " detected (" + SecretMatcher.formName(m.aux(i)) + ")";
        evidence = "[secret " + name + "]";
      } else {
        message = rule.name() + " detected";
        // A pattern match on a known secret would show 8 of its characters: show none.
        evidence =
            known.overlaps(m.start(i), m.end(i)) ? "****" : evidence(data, m.start(i), m.end(i));
      }
      out.add(
          new Finding(
              "secrets", rule.severity(), rule.category(), message, evidence, stream, m.start(i)));
    }
    return out;
  }

  /** {@code data} with the union of overlapping matches replaced, labelled by the first. */
  static byte[] redact(byte[] data, Matches m) {
    int[] order = m.sortedOrder();
    ByteSink out = new ByteSink(data.length + 32 * order.length);
    int pos = 0;
    int k = 0;
    while (k < order.length) {
      int i = order[k];
      int start = m.start(i);
      int end = m.end(i);
      int rule = m.rule(i);
      k++;
      while (k < order.length && m.start(order[k]) < end) {
        end = Math.max(end, m.end(order[k]));
        k++;
      }
      out.write(data, pos, start - pos);
      out.write(REDACTION_LABELS[rule], 0, REDACTION_LABELS[rule].length);
      pos = end;
    }
    out.write(data, pos, data.length - pos);
    return out.toByteArray();
  }

  /**
   * The first and last {@code min(4, n/4)} characters of the match around {@code ****}, decoded
   * leniently as UTF-8, with control and format characters shown as {@code ?}.
   */
  static String evidence(byte[] data, int start, int end) {
    String s = new String(data, start, end - start, StandardCharsets.UTF_8);
    int n = s.codePointCount(0, s.length());
    int k = Math.min(4, n / 4);
    StringBuilder b = new StringBuilder(2 * k + 4);
    int headEnd = s.offsetByCodePoints(0, k);
    int tailStart = s.offsetByCodePoints(s.length(), -k);
    appendVisible(b, s, 0, headEnd);
    b.append("****");
    appendVisible(b, s, tailStart, s.length());
    return b.toString();
  }

  private static void appendVisible(StringBuilder b, String s, int from, int to) {
    for (int i = from; i < to; ) {
      int cp = s.codePointAt(i);
      int type = Character.getType(cp);
      boolean hidden =
          Character.isISOControl(cp)
              || type == Character.FORMAT
              || type == Character.LINE_SEPARATOR
              || type == Character.PARAGRAPH_SEPARATOR;
      if (hidden) {
        b.append('?');
      } else {
        b.appendCodePoint(cp);
      }
      i += Character.charCount(cp);
    }
  }

  private static Rule rule(String name, String category, Severity severity, String pattern) {
    return new Rule(name, category, severity, pattern);
  }

  private static byte[][] redactionLabels() {
    byte[][] labels = new byte[RULES.size()][];
    for (int i = 0; i < labels.length; i++) {
      labels[i] =
          ("[REDACTED:" + RULES.get(i).category() + "]").getBytes(StandardCharsets.US_ASCII);
    }
    return labels;
  }

  /** Builder for {@link SecretsScanner}. */
  public static final class Builder {
    private final Map<String, byte[]> secrets = new LinkedHashMap<>();
    private boolean validateSsn = true;

    private Builder() {}

    /**
     * Adds a secret to recognise, by name (used in findings) and value (copied; the copy is wiped
     * by {@link SecretsScanner#close()}). Values shorter than 4 bytes are not matched.
     */
    public Builder secret(String name, byte[] value) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
      if (secrets.containsKey(name)) {
        throw new IllegalArgumentException("secret " + name + " was already added");
      }
      secrets.put(name, value.clone());
      return this;
    }

    /** Turns the SSN plausibility check off, leaving the Rust regex alone (for comparisons). */
    Builder rawSsnPattern() {
      this.validateSsn = false;
      return this;
    }

    /** Builds the scanner; the builder's copies of the secrets are wiped. */
    public SecretsScanner build() {
      List<String> names = new ArrayList<>(secrets.keySet());
      List<byte[]> values = new ArrayList<>(secrets.values());
      SecretMatcher matcher = SecretMatcher.of(names, values);
      for (byte[] v : values) {
        Arrays.fill(v, (byte) 0);
      }
      secrets.clear();
      return new SecretsScanner(matcher, validateSsn);
    }
  }

  /** Spans sorted by start with a running maximum of ends, for overlap queries in log time. */
  private static final class Spans {
    private final int[] starts;
    private final int[] maxEnd;

    Spans(List<int[]> spans) {
      spans.sort((a, b) -> Integer.compare(a[0], b[0]));
      starts = new int[spans.size()];
      maxEnd = new int[spans.size()];
      int max = Integer.MIN_VALUE;
      for (int i = 0; i < starts.length; i++) {
        starts[i] = spans.get(i)[0];
        max = Math.max(max, spans.get(i)[1]);
        maxEnd[i] = max;
      }
    }

    /** Whether any span intersects {@code [s, e)}. */
    boolean overlaps(int s, int e) {
      // Spans starting before e; among them, does one end after s?
      int lo = 0;
      int hi = starts.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (starts[mid] < e) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo > 0 && maxEnd[lo - 1] > s;
    }
  }

  /** A minimal growable byte buffer (ByteArrayOutputStream synchronises every write). */
  private static final class ByteSink {
    private byte[] buf;
    private int size;

    ByteSink(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    void write(byte[] src, int off, int len) {
      if (size + len > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + len));
      }
      System.arraycopy(src, off, buf, size, len);
      size += len;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, size);
    }
  }
}
